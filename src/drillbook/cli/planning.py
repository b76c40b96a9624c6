"""Commands: exercise plan, exercise brief, inventory check."""

from __future__ import annotations
