"""Stored records of the scorecard domain (SQLAlchemy tables)."""

from __future__ import annotations
