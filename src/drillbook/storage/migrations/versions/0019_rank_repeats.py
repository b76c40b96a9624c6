"""Indexes for ``finding rank`` and lint's repeat check at a program's scale.

Revision ID: 0019_rank_repeats
Revises: 0018_program_covering

The open fixes are ordered by score from ``(status, capability, severity, created_at,
number)``, the runs per capability counted from ``(capability, exercise_id,
created_at)``, and lint reads each exercise's capabilities and first time from
``(exercise_id, capability, created_at)``, without reading the findings' rows (see
``drillbook.domain.finding.indexes``).
"""

from __future__ import annotations

from alembic import op

revision = "0019_rank_repeats"
down_revision = "0018_program_covering"
branch_labels = None
depends_on = None

_INDEXES = (
    (
        "ix_findings_status_capability_score",
        "findings",
        ["status", "capability", "severity", "created_at", "number"],
    ),
    (
        "ix_findings_capability_exercise_id",
        "findings",
        ["capability", "exercise_id", "created_at"],
    ),
    (
        "ix_findings_exercise_id_capability",
        "findings",
        ["exercise_id", "capability", "created_at"],
    ),
)


def upgrade() -> None:
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table)
