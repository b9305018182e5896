"""Names of the columns a churn model's scores come in, shared without importing MLflow.

model/pyfunc.py writes them; serving, monitoring and the prediction log read them. Keep
this module free of heavy imports: the prediction log and the CLI import it.
"""

PROBABILITY_COLUMN = "churn_probability"
"""Calibrated probability of churn within the model's horizon."""
CONTRIBUTION_PREFIX = "contribution__"
"""Prefix of the per-feature log-odds contribution columns: ``contribution__<feature>``."""


def survival_column(month: int) -> str:
    """Name of the column of S(month), the probability of still being a customer after it."""
    return f"survival_{month}m"


def monthly_churn_column(month: int) -> str:
    """Name of the column of the probability of churning in month `month`, S(month - 1) - S(month)."""
    return f"churn_month_{month}"
