"""Drill executors: Atomic Red Team, Stratus Red Team, inline commands; safety and journal."""
