"""Old path of ChurnPyfunc and ModelCard, now zerochurn.model.pyfunc and .card: models logged
before zerochurn.model existed are pickled under this name, and still load through it."""

from zerochurn.model.card import ModelCard
from zerochurn.model.pyfunc import ChurnPyfunc

__all__ = ["ChurnPyfunc", "ModelCard"]
