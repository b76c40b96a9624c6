"""The drill domain."""
