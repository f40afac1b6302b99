"""Shared helpers for tcptune.linux benchmarks (host-side only; never shipped to targets)."""
