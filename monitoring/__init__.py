"""Monitoring: the prediction log, drift and delayed-label performance, the retraining policy.

prediction_log.append / read keep every score; monitor.check and monitor.save run and
record a monitoring check; commands holds the `monitor` and `retrain` CLI commands.
Nothing is imported here, and Evidently only when a report runs (monitoring.report).
"""
