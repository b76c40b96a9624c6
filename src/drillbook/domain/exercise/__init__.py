"""The exercise domain."""
