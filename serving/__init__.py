"""Scoring: churn probability, churn index, value at risk and reasons, as a service and in batch.

scoring.py defines a score; scoring_path.py scores and logs it to the prediction log
(prediction_log.py, typed by log_schema.py), the one path of the service, batch scoring
and the CLI; model.py loads the champion for scoring; explain.py explains it fast;
store.py keeps the latest batch for the service; batch.py scores a population;
runtime.py and service.py serve it over HTTP; launch.py starts it; bento.py builds a
Bento. The CLI commands are zerochurn/cli/serving.py; docs/serving.md describes the stage.
"""
