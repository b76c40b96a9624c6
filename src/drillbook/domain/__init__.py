"""Domain models and services, one folder per domain."""
