"""Core tables: scenario revisions.

Revision ID: 0001_core
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drillbook.storage.base import UTCDateTime

revision = "0001_core"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scenario_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(120), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_scenario_revisions"),
        sa.UniqueConstraint(
            "scenario_id", "content_hash", name="uq_scenario_revisions_scenario_id"
        ),
    )
    op.create_index("ix_scenario_revisions_scenario_id", "scenario_revisions", ["scenario_id"])


def downgrade() -> None:
    op.drop_index("ix_scenario_revisions_scenario_id", "scenario_revisions")
    op.drop_table("scenario_revisions")
