"""`make bench`: benchmarks whose figures go to docs/benchmarks.md (speed is never timed in tests)."""
