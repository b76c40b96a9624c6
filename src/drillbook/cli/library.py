"""Commands: init, lint, schema."""

from __future__ import annotations
