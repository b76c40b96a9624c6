"""Sensor events beyond process creation: file, network and auditd-shaped events.

Revision ID: 0012_sensor_events
Revises: 0011_drill_version

The strace sensor's file_event, file_delete, network_connection and auditd events of a
technique's own process tree (see ``drillbook.telemetry.strace_events``), kept per
technique run so the local engine can check SigmaHQ's rules for them after the drill.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drillbook.storage.base import UTCDateTime

revision = "0012_sensor_events"
down_revision = "0011_drill_version"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sensor_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("drill_run_id", sa.String(32), nullable=False),
        sa.Column("technique_run_id", sa.String(32), nullable=False),
        sa.Column("technique", sa.String(200), nullable=False),
        sa.Column("logsource", sa.String(80), nullable=False),
        sa.Column("also", sa.JSON(), nullable=False),
        sa.Column("utc_time", UTCDateTime(), nullable=True),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sensor_events"),
    )
    op.create_index("ix_sensor_events_drill_run_id", "sensor_events", ["drill_run_id"])
    op.create_index("ix_sensor_events_technique_run_id", "sensor_events", ["technique_run_id"])


def downgrade() -> None:
    op.drop_index("ix_sensor_events_technique_run_id", "sensor_events")
    op.drop_index("ix_sensor_events_drill_run_id", "sensor_events")
    op.drop_table("sensor_events")
