"""The user's library: YAML in git, loaded with line numbers, validated, linted."""
