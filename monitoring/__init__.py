"""Monitoring: drift and delayed-label performance of the champion, and the retraining policy.

One job per module: champion.py loads the champion with its reference rows (through
model/registry.py); current.py gathers the current rows from the prediction log, which
serving writes (serving/prediction_log.py), or from a data folder; drift.py and
performance.py measure them with Evidently (report.py runs it, results.py reads it);
policy.py decides; monitor.py's `check` runs these into a typed MonitoringSummary
(summary.py); record.py saves a run (folder, history, MLflow via tracking.py).
The CLI commands are zerochurn/cli/monitoring.py. Nothing is imported here, and
Evidently only when a report runs (monitoring.report).
"""
