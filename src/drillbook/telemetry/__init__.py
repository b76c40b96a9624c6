"""Telemetry: sensors, readers, normalisation to Sigma fields."""
