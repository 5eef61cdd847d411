"""Benchmarks: each script prints its figures beside a baseline measured in the same run.

Run from the repository root: `make bench`, or `.venv/bin/python -m bench.<name>`.
"""
