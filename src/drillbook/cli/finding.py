"""Commands: the findings backlog."""

from __future__ import annotations
