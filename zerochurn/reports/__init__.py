"""Satisfaction, complaint and churn reports for retention and service managers."""
