"""The store: engine, sessions, migrations."""
