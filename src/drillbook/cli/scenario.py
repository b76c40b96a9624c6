"""Commands: scenario list, scenario show."""

from __future__ import annotations
