"""The Evidently result reader, on real small snapshots whose values were computed by hand."""

from __future__ import annotations

import copy
import math

import pandas as pd
import pytest

from zerochurn.configs.settings import MonitoringConfig
from zerochurn.monitoring.report import Columns, run_report
from zerochurn.monitoring.results import read_results

REPEATS = 25
CONFIG = MonitoringConfig()

# x moves up by exactly 1: Wasserstein distance 1, over the reference's (population) std of
# 0, 1, 2, 3, which is sqrt(1.25). The category mix and the predictions do not move.
REFERENCE = pd.DataFrame(
    {
        "x": [0.0, 1.0, 2.0, 3.0] * REPEATS,
        "city": ["a", "b", "a", "b"] * REPEATS,
        "churn_probability": [0.1, 0.2, 0.3, 0.4] * REPEATS,
    }
)
CURRENT = REFERENCE.assign(x=REFERENCE["x"] + 1.0)
X_DISTANCE = 1.0 / math.sqrt(1.25)

# 2 churners and 2 stayers: 3 of the 4 churner/stayer pairs are ranked right.
LABELLED = pd.DataFrame({"churn_probability": [0.1, 0.4, 0.35, 0.8], "churned": [0, 0, 1, 1]})
LOG_LOSS = -sum(
    math.log(p if y else 1 - p)
    for p, y in zip(LABELLED["churn_probability"], LABELLED["churned"], strict=True)
) / len(LABELLED)


@pytest.fixture(scope="module")
def drift_snapshot() -> dict:
    columns = Columns(numeric=("x",), categorical=("city",))
    return run_report(current=CURRENT, reference=REFERENCE, columns=columns, config=CONFIG).dict()


@pytest.fixture(scope="module")
def quality_snapshot() -> dict:
    return run_report(
        current=LABELLED, reference=None, columns=Columns(label="churned"), config=CONFIG
    ).dict()


def test_drift_is_read_per_column_with_the_pinned_methods(drift_snapshot):
    drift = read_results(drift_snapshot).drift
    assert set(drift) == {"x", "city", "churn_probability"}
    x = drift["x"]
    assert (x.method, x.threshold, x.drifted) == ("wasserstein", 0.1, True)
    assert x.score == pytest.approx(X_DISTANCE)
    city = drift["city"]
    assert (city.method, city.drifted) == ("jensenshannon", False)
    assert city.score == pytest.approx(0.0, abs=1e-9)
    assert not drift["churn_probability"].drifted


def test_reading_does_not_depend_on_list_order(drift_snapshot):
    shuffled = copy.deepcopy(drift_snapshot)
    shuffled["metrics"].reverse()
    shuffled["tests"] = shuffled["tests"][1:] + shuffled["tests"][:1]
    assert read_results(shuffled) == read_results(drift_snapshot)


def test_quality_metrics_are_read_by_type_and_column(quality_snapshot):
    results = read_results(quality_snapshot)
    assert results.drift == {}
    assert results.scores == pytest.approx({"roc_auc": 0.75, "log_loss": LOG_LOSS, "rows": 4.0})
    assert results.means == pytest.approx({"churn_probability": 0.4125, "churned": 0.5})


def test_a_drift_metric_without_its_test_is_refused(drift_snapshot):
    untested = copy.deepcopy(drift_snapshot) | {"tests": []}
    with pytest.raises(ValueError, match="ValueDrift of '.+' has 0 tests: expected 1"):
        read_results(untested)


def test_a_column_measured_twice_is_refused(drift_snapshot):
    doubled = copy.deepcopy(drift_snapshot)
    doubled["metrics"].append(doubled["metrics"][0])
    with pytest.raises(ValueError, match="two ValueDrift metrics for"):
        read_results(doubled)


def test_an_errored_drift_test_is_refused(drift_snapshot):
    errored = copy.deepcopy(drift_snapshot)
    errored["tests"][0]["status"] = "ERROR"
    with pytest.raises(ValueError, match="ended ERROR: expected SUCCESS or FAIL"):
        read_results(errored)


def test_a_report_needs_something_to_compute():
    with pytest.raises(ValueError, match="nothing to report"):
        run_report(current=CURRENT, reference=None, columns=Columns(numeric=("x",)), config=CONFIG)
