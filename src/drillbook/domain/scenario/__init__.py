"""The scenario domain."""
