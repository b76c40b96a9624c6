"""The base layer for files: line-aware YAML reading, durations, and validation into
pydantic models with located errors. It imports no domain, so every layer above can use it."""
