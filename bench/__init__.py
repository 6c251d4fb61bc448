"""Benchmarks on the real data in ../shared (never shipped: the data is test-only)."""
