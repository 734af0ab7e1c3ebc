"""Benchmarks of the import pipeline; ``make bench`` runs them (see bench/run.py)."""
