"""Benchmarks: each is a module runnable as `python -m bench.<name>`; results go into docs/benchmarks.md."""
