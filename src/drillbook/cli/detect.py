"""Commands: detect run, detect test."""

from __future__ import annotations
