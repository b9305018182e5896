"""Old path of ChurnModel, now zerochurn.model.estimator: models logged before zerochurn.model
existed are pickled under this name, and still load through it."""

from zerochurn.model.estimator import ChurnModel

__all__ = ["ChurnModel"]
