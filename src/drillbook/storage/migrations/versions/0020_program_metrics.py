"""Indexes for the program's metrics: each team's oldest overdue findings, and the time to
close per severity.

Revision ID: 0020_program_metrics
Revises: 0019_rank_repeats

The past_sla signal names each team's first overdue findings by due date: with
``(team, due_date, number)`` that is a short walk per team instead of reading and sorting
every overdue finding. The time to close takes its median and p90 per severity by
``ORDER BY ... LIMIT 1 OFFSET``; ``(severity, closed_at, created_at)`` gives each severity's
closed findings without reading the other severities' (and covers the days to close).
"""

from __future__ import annotations

from alembic import op

revision = "0020_program_metrics"
down_revision = "0019_rank_repeats"
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_findings_team_due_date", "findings", ["team", "due_date", "number"]),
    ("ix_findings_severity_closed_at", "findings", ["severity", "closed_at", "created_at"]),
)


def upgrade() -> None:
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table)
