"""Old path of FeatureEncoder, now zerochurn.model.encoding: models logged before
zerochurn.model existed are pickled under this name, and still load through it."""

from zerochurn.model.encoding import FeatureEncoder

__all__ = ["FeatureEncoder"]
