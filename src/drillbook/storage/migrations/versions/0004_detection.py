"""Detection results and acknowledgements (scorecard domain).

Revision ID: 0004_detection
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drillbook.storage.base import UTCDateTime

revision = "0004_detection"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "detection_results",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("drill_run_id", sa.String(64), nullable=False),
        sa.Column("technique_run_id", sa.String(64), nullable=False),
        sa.Column("technique", sa.String(200), nullable=False),
        sa.Column("technique_name", sa.Text(), nullable=False),
        sa.Column("expected_rule", sa.Text(), nullable=False),
        sa.Column("rule_title", sa.Text(), nullable=True),
        sa.Column("backend", sa.String(40), nullable=False),
        sa.Column("verdict", sa.String(20), nullable=False),
        sa.Column("fired", sa.Boolean(), nullable=False),
        sa.Column("fired_severity", sa.String(20), nullable=True),
        sa.Column("expected_severity", sa.String(20), nullable=True),
        sa.Column("technique_started_at", UTCDateTime(), nullable=True),
        sa.Column("first_alert_at", UTCDateTime(), nullable=True),
        sa.Column("time_to_alert_seconds", sa.Float(), nullable=True),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=True),
        sa.Column("events_seen", sa.Integer(), nullable=False),
        sa.Column("matching_events", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("finding_id", sa.String(40), nullable=True),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_detection_results"),
    )
    for column in ("drill_run_id", "technique_run_id", "technique"):
        op.create_index(f"ix_detection_results_{column}", "detection_results", [column])
    op.create_table(
        "detection_acks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("drill_run_id", sa.String(64), nullable=False),
        sa.Column("technique", sa.String(200), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime(), nullable=False),
        sa.Column("acknowledged_by", sa.String(200), nullable=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_detection_acks"),
    )
    op.create_index("ix_detection_acks_drill_run_id", "detection_acks", ["drill_run_id"])


def downgrade() -> None:
    op.drop_index("ix_detection_acks_drill_run_id", "detection_acks")
    op.drop_table("detection_acks")
    for column in ("drill_run_id", "technique_run_id", "technique"):
        op.drop_index(f"ix_detection_results_{column}", "detection_results")
    op.drop_table("detection_results")
