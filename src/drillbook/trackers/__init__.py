"""Issue-tracker adapters."""
