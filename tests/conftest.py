"""Session fixtures shared by test modules."""

from __future__ import annotations

import pytest
from serving_world import build_serving_world

from zerochurn.configs import Settings


@pytest.fixture(scope="session")
def serving_world(tmp_path_factory) -> Settings:
    """A trained tiny world with batch scores (tests/serving_world.py), built once."""
    return build_serving_world(tmp_path_factory.mktemp("serving"))
