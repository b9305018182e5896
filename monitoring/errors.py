"""The one error of monitoring: it cannot run on what it was given."""


class MonitoringError(ValueError):
    """Monitoring cannot run on what it was given; the message says why and what to do."""
