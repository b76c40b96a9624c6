"""Commands: drill score, drill coverage."""

from __future__ import annotations
