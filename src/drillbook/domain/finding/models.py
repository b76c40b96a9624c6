"""Stored records of the finding domain (SQLAlchemy tables)."""

from __future__ import annotations
