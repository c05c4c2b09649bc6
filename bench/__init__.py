"""Benchmarks of Apuri against the fake Bot API in a separate process; run with `make bench`."""
