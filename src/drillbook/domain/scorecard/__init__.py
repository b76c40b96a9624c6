"""The scorecard domain."""
