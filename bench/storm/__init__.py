"""Accept storm benchmark (issue 7, benchmark 1)."""
