"""Seed 000 on a real kernel: TCP memory pressure before and after the role (issue 12)."""
