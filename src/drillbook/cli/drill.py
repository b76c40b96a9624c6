"""Commands: drill run, drill list-techniques, drill cleanup."""

from __future__ import annotations
