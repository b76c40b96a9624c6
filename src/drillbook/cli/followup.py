"""Commands: followup."""

from __future__ import annotations
