"""What training produces and every stage reads: the churn model and the maths of its scores.

estimator.py (ChurnModel), encoding.py and calibration.py make the one fitted object;
card.py describes its training population; pyfunc.py wraps both for MLflow; outputs.py
names its score columns; metrics.py judges it; value.py and savings.py turn probabilities
into money; registry.py is the one place that configures MLflow and finds, loads,
promotes and rolls back the champion (champion.py holds what its callers keep).
training/, serving/ and monitoring/ import this package, never each other.
Nothing is imported here.
"""
