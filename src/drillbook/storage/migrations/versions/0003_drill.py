"""Drill tables: drill_runs, technique_runs, journal_entries, process_events.

Revision ID: 0003_drill
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drillbook.storage.base import UTCDateTime

revision = "0003_drill"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "drill_runs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("plan_name", sa.String(200), nullable=False),
        sa.Column("plan_path", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("runner_pid", sa.Integer(), nullable=True),
        sa.Column("runner_host", sa.String(255), nullable=False),
        sa.Column("operator", sa.String(200), nullable=False),
        sa.Column("safety", sa.JSON(), nullable=False),
        sa.Column("abort_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_drill_runs"),
    )
    op.create_index("ix_drill_runs_plan_name", "drill_runs", ["plan_name"])
    op.create_table(
        "technique_runs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("drill_run_id", sa.String(32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("technique", sa.String(200), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("executor", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("command", sa.Text(), nullable=True),
        sa.Column("cleanup_command", sa.Text(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("timed_out", sa.Boolean(), nullable=False),
        sa.Column("stdout", sa.Text(), nullable=False),
        sa.Column("stderr", sa.Text(), nullable=False),
        sa.Column("ran", sa.Boolean(), nullable=False),
        sa.Column("checks", sa.JSON(), nullable=False),
        sa.Column("cleanup_outcome", sa.String(20), nullable=False),
        sa.Column("cleanup_exit_code", sa.Integer(), nullable=True),
        sa.Column("cleanup_output", sa.Text(), nullable=True),
        sa.Column("telemetry_captured", sa.Boolean(), nullable=False),
        sa.Column("telemetry_note", sa.Text(), nullable=True),
        sa.Column("expected_detections", sa.JSON(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["drill_run_id"],
            ["drill_runs.id"],
            ondelete="CASCADE",
            name="fk_technique_runs_drill_run_id_drill_runs",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_technique_runs"),
    )
    op.create_index("ix_technique_runs_drill_run_id", "technique_runs", ["drill_run_id"])
    op.create_table(
        "journal_entries",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("drill_run_id", sa.String(32), nullable=False),
        sa.Column("technique_run_id", sa.String(32), nullable=False),
        sa.Column("step", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("executor", sa.String(40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_journal_entries"),
    )
    op.create_index("ix_journal_entries_drill_run_id", "journal_entries", ["drill_run_id"])
    op.create_index("ix_journal_entries_technique_run_id", "journal_entries", ["technique_run_id"])
    op.create_table(
        "process_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("drill_run_id", sa.String(32), nullable=False),
        sa.Column("technique_run_id", sa.String(32), nullable=False),
        sa.Column("technique", sa.String(200), nullable=False),
        sa.Column("utc_time", UTCDateTime(), nullable=False),
        sa.Column("process_id", sa.Integer(), nullable=False),
        sa.Column("parent_process_id", sa.Integer(), nullable=True),
        sa.Column("image", sa.Text(), nullable=False),
        sa.Column("command_line", sa.Text(), nullable=False),
        sa.Column("parent_image", sa.Text(), nullable=True),
        sa.Column("parent_command_line", sa.Text(), nullable=True),
        sa.Column("user", sa.String(200), nullable=False),
        sa.Column("current_directory", sa.Text(), nullable=True),
        sa.Column("is_runner", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_process_events"),
    )
    op.create_index("ix_process_events_drill_run_id", "process_events", ["drill_run_id"])
    op.create_index("ix_process_events_technique_run_id", "process_events", ["technique_run_id"])


def downgrade() -> None:
    op.drop_table("process_events")
    op.drop_table("journal_entries")
    op.drop_table("technique_runs")
    op.drop_table("drill_runs")
