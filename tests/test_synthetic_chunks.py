"""A world generated in chunks: chunk k is the world of seed + k, its ids prefixed."""

from __future__ import annotations

import pandas as pd
from pandas.testing import assert_frame_equal

from zerochurn.configs.settings import GenerateConfig
from zerochurn.contract.validate import load_raw
from zerochurn.synthetic import generate_world
from zerochurn.synthetic.chunks import chunk_prefix, write_world_in_chunks

CONFIG = GenerateConfig(customers=300, months=4, seed=5)


def test_each_chunk_is_the_world_of_its_seed_with_prefixed_ids(tmp_path):
    rows = write_world_in_chunks(CONFIG, 2, tmp_path / "world", horizon_days=90)
    parts = sorted((tmp_path / "world" / "customers.parquet").iterdir())
    assert [part.name for part in parts] == ["part-00000.parquet", "part-00001.parquet"]
    second = generate_world(
        CONFIG.model_copy(update={"customers": 150, "seed": 6}), horizon_days=90
    )
    written = pd.read_parquet(parts[1])
    expected = second.tables["customers"].assign(
        customer_id=chunk_prefix(1) + second.tables["customers"]["customer_id"]
    )
    assert_frame_equal(written, expected)
    raw = load_raw(tmp_path / "world")  # the pandas engine reads folders of part files
    assert raw.customers["customer_id"].is_unique
    assert len(raw.customers) == rows["customers"]
    assert raw.complaints["complaint_id"].str.startswith(("P00-", "P01-")).all()
