"""Training: labelled snapshots -> fitted churn model and baseline -> MLflow run -> the gate.

data.py builds the labelled rows, split.py splits them, fit.py and tuning.py fit the
models (the model itself is zerochurn.model's), steps.py evaluates and decides in pure
steps, train.py runs them in one MLflow run (tracking.py logs) and registers the model.
model.py, encoding.py, calibration.py and pyfunc.py only keep the old names of classes
now in zerochurn.model, which models logged before the move are pickled under.
"""
