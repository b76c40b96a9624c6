"""Orchestration that crosses domains (run a drill, close an exercise, lint a library)."""
