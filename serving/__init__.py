"""Scoring: churn probability, churn index, value at risk and reasons, as a service and in batch.

scoring.py defines a score; model.py loads the champion; explain.py explains it fast;
store.py keeps the latest batch for the service; batch.py scores a population;
runtime.py and service.py serve it over HTTP; commands.py holds the CLI commands.
docs/serving.md describes the whole stage.
"""
