"""Commands: scenario generate."""

from __future__ import annotations
