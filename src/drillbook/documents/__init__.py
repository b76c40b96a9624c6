"""The base layer for files: line-aware YAML reading, durations, validation into
pydantic models with located errors, and walking folders. It imports no domain, so every
layer above can use it."""
