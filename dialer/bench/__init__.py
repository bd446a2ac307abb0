"""Benchmarks behind `dialer bench …`: generators and timed runs (speed targets live here, not in tests)."""
