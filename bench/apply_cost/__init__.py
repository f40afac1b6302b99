"""Apply cost benchmark (issue 7, benchmark 5) and the playbook helpers the other benchmarks use."""
