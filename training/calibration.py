"""Old path of the calibrators, now zerochurn.model.calibration: models logged before
zerochurn.model existed are pickled under this name, and still load through it."""

from zerochurn.model.calibration import IsotonicCalibrator, PlattCalibrator

__all__ = ["IsotonicCalibrator", "PlattCalibrator"]
