"""Names of the columns a churn model's scores come in, shared without importing MLflow.

model/pyfunc.py writes them; serving, monitoring and the prediction log read them. Keep
this module free of heavy imports: the prediction log and the CLI import it.
"""

PROBABILITY_COLUMN = "churn_probability"
"""Calibrated probability of churn within the model's horizon."""
CONTRIBUTION_PREFIX = "contribution__"
"""Prefix of the per-feature log-odds contribution columns: ``contribution__<feature>``."""
