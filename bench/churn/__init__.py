"""Outbound churn benchmark (issue 7, benchmark 2)."""
