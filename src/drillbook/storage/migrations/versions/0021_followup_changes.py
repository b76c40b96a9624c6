"""A partial index of the findings' status changes, for the 30-day follow-up.

Revision ID: 0021_followup_changes
Revises: 0020_program_metrics

``followup`` asks each finding's latest status change (an event of kind ``status`` with
a ``from``). Grouping every event by finding read the whole history; this index holds
only the status changes, in ``(finding_id, at)`` order, so the grouping reads it alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021_followup_changes"
down_revision = "0020_program_metrics"
branch_labels = None
depends_on = None

# the same text as domain.program.indexes.STATUS_CHANGES_PREDICATE (a migration keeps its
# own copy: it must not change when the models do)
_PREDICATE = "kind = 'status' AND from_status IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_finding_events_status_changes",
        "finding_events",
        ["finding_id", "at"],
        sqlite_where=sa.text(_PREDICATE),
        postgresql_where=sa.text(_PREDICATE),
    )


def downgrade() -> None:
    op.drop_index("ix_finding_events_status_changes", "finding_events")
