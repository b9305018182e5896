"""zerochurn: predict which customers will leave, what they are worth, and why."""

__version__ = "0.1.0"
