"""Stored records of the drill domain (SQLAlchemy tables)."""

from __future__ import annotations
