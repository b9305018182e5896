"""Retention campaigns with a randomised control group, and what they saved.

assign.py randomises treatment and control by risk tier; store.py records campaigns
durably; outcomes.py reads what happened; measure.py compares the groups in customers and
money; report.py and tracking.py write the result as HTML/JSON and to MLflow.
"""
