"""Helpers shared by bench/bench.py and bench/reliability.py (stdlib only)."""
