"""Benchmarks of this project against eventsourcing 9.5.6 and the raw drivers (issue 5)."""
