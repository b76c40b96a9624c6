"""Pure planning functions: generation, briefs, facilitator scripts, variations."""
