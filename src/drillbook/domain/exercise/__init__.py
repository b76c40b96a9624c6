"""Exercise runs: lifecycle, timeline, clock derived from stored events."""
