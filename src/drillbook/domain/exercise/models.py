"""Stored records of the exercise domain (SQLAlchemy tables)."""

from __future__ import annotations
