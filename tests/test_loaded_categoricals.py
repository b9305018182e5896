"""Loaded raw data holds text as categoricals: features and reports equal those of plain text."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pandas as pd
import pytest

from zerochurn.configs.settings import ChurnConfig, FeatureConfig, GenerateConfig, ReportsConfig
from zerochurn.contract.dataset import RawData
from zerochurn.contract.schema import SURVEY_ITEMS
from zerochurn.contract.validate import load_raw
from zerochurn.features import build_features, build_training_frame, monthly_as_of_dates
from zerochurn.reports.churn import churn_report
from zerochurn.reports.complaints import complaints_report
from zerochurn.reports.html import Report
from zerochurn.reports.satisfaction import satisfaction_report
from zerochurn.synthetic import generate_world, write_world

TABLES = ("customers", "transactions", "surveys", "complaints")
CHURN = {
    "cancellation": ChurnConfig(),
    "inactivity": ChurnConfig(definition="inactivity", inactivity_days=60, horizon_days=60),
}


def as_plain_text(raw: RawData) -> RawData:
    """The same raw data with every categorical column as str, as the loader once gave it."""

    def plain(frame: pd.DataFrame) -> pd.DataFrame:
        categorical = [name for name in frame if isinstance(frame[name].dtype, pd.CategoricalDtype)]
        return frame.astype(dict.fromkeys(categorical, "str"))

    return replace(raw, **{name: plain(getattr(raw, name)) for name in TABLES})


@pytest.fixture(scope="module", params=["parquet", "csv"])
def loaded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> RawData:
    world = generate_world(GenerateConfig(customers=400, months=15, seed=3), horizon_days=90)
    folder = write_world(world, tmp_path_factory.mktemp("world") / "data", request.param)
    return load_raw(folder)


def test_plain_text_copy_has_no_categoricals(loaded: RawData):
    assert isinstance(loaded.surveys["customer_id"].dtype, pd.CategoricalDtype)
    plain = as_plain_text(loaded)
    dtypes = [dtype for name in TABLES for dtype in getattr(plain, name).dtypes]
    assert not any(isinstance(dtype, pd.CategoricalDtype) for dtype in dtypes)


@pytest.mark.parametrize("definition", CHURN)
def test_features_from_loaded_data_equal_features_from_plain_text(loaded: RawData, definition: str):
    churn, config = CHURN[definition], FeatureConfig()
    plain = as_plain_text(loaded)
    dates = monthly_as_of_dates(loaded)
    for as_of in (dates[0], dates[len(dates) // 2], dates[-1]):
        features = build_features(loaded, as_of, config, churn)
        pd.testing.assert_frame_equal(features, build_features(plain, as_of, config, churn))
        pd.testing.assert_frame_equal(
            features, build_features(loaded.cut(as_of), as_of, config, churn)
        )
        assert (features[["region", "segment", "plan"]].dtypes == "str").all()
    training = monthly_as_of_dates(loaded, churn=churn)[-2:]
    pd.testing.assert_frame_equal(
        build_training_frame(loaded, training, config, churn),
        build_training_frame(plain, training, config, churn),
    )


def _satisfaction(raw: RawData) -> Report:
    return satisfaction_report(
        raw.surveys, raw.customers, quarter=None, config=ReportsConfig(), satisfied_score=75
    )


def _complaints(raw: RawData) -> Report:
    return complaints_report(raw.complaints, month=None, as_of=raw.end, config=ReportsConfig())


def _churn(raw: RawData) -> Report:
    config = ReportsConfig(churn_months=3)
    return churn_report(raw, churn=ChurnConfig(), features=FeatureConfig(), config=config)


@pytest.mark.parametrize("make", [_satisfaction, _complaints, _churn], ids=lambda f: f.__name__)
def test_reports_from_loaded_data_equal_reports_from_plain_text(
    loaded: RawData, make: Callable[[RawData], Report]
):
    report, expected = make(loaded), make(as_plain_text(loaded))
    assert report.summary == expected.summary
    tables = [table for section in report.sections for table in section.tables]
    expected_tables = [table for section in expected.sections for table in section.tables]
    assert [table.name for table in tables] == [table.name for table in expected_tables]
    for table, other in zip(tables, expected_tables, strict=True):
        pd.testing.assert_frame_equal(table.frame, other.frame, obj=table.name)
    if make is _satisfaction:
        items = tables[0].frame["item"].tolist()
        assert items == [item for item in SURVEY_ITEMS if item in items]
