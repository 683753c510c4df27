"""Measuring the service: evaluation, calibration, benchmarks and load."""
