"""Commands: the guided walk-through (the README's run command)."""

from __future__ import annotations
