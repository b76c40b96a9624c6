"""Tracker links per finding and the sent-notice ledger (issue 15).

Revision ID: 0015_finding_trackers
Revises: 0002_exercise_finding
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drillbook.storage.base import UTCDateTime

revision = "0015_finding_trackers"
down_revision = "0002_exercise_finding"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "finding_tracker_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.String(), nullable=False),
        sa.Column("tracker", sa.String(80), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("url", sa.String(), nullable=True),
        sa.Column("remote_id", sa.String(), nullable=True),
        sa.Column("synced_state", sa.String(), nullable=True),
        sa.Column("synced_owner", sa.String(), nullable=True),
        sa.Column("synced_due", sa.Date(), nullable=True),
        sa.Column("synced_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["findings.id"], name="fk_finding_tracker_links_finding_id_findings"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_finding_tracker_links"),
        sa.UniqueConstraint("finding_id", "tracker", name="uq_finding_tracker_links_finding_id"),
    )
    op.create_index("ix_finding_tracker_links_finding_id", "finding_tracker_links", ["finding_id"])
    op.create_table(
        "finding_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.String(), nullable=False),
        sa.Column("notice", sa.String(80), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(40), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["findings.id"], name="fk_finding_notices_finding_id_findings"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_finding_notices"),
        sa.UniqueConstraint(
            "finding_id", "notice", "recipient", name="uq_finding_notices_finding_id"
        ),
    )
    op.create_index("ix_finding_notices_finding_id", "finding_notices", ["finding_id"])


def downgrade() -> None:
    op.drop_index("ix_finding_notices_finding_id", "finding_notices")
    op.drop_table("finding_notices")
    op.drop_index("ix_finding_tracker_links_finding_id", "finding_tracker_links")
    op.drop_table("finding_tracker_links")
