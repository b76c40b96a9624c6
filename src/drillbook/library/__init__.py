"""The user's library: discovery and loading of its files into domain models, their JSON
Schemas, the built-in corpus and ``init`` scaffolding. Line-aware YAML reading and
validation live in :mod:`drillbook.documents`; linting is a flow
(:mod:`drillbook.flows.lint_library`)."""
