"""The program: incidents, the team of a drill run, indexes for metrics and big backlogs.

Revision ID: 0016_program
Revises: 0002_exercise_finding, 0003_drill, 0004_detection
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drillbook.storage.base import UTCDateTime

revision = "0016_program"
down_revision = ("0002_exercise_finding", "0003_drill", "0004_detection")
branch_labels = None
depends_on = None

_INDEXES = (
    ("ix_findings_created_at", "findings", ["created_at"]),
    ("ix_findings_closed_at", "findings", ["closed_at"]),
    ("ix_findings_status_due_date", "findings", ["status", "due_date"]),
    ("ix_findings_team_created_at", "findings", ["team", "created_at"]),
    ("ix_finding_events_finding_id_at", "finding_events", ["finding_id", "at"]),
    ("ix_exercises_team_run_date", "exercises", ["team", "run_date"]),
    ("ix_detection_results_checked_at", "detection_results", ["checked_at"]),
)


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("team", sa.String(120), nullable=True),
        sa.Column("category", sa.String(60), nullable=True),
        sa.Column("scenario_id", sa.String(120), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("recorded_at", UTCDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
    )
    op.create_index("ix_incidents_occurred_on", "incidents", ["occurred_on"])
    op.create_index("ix_incidents_team", "incidents", ["team"])
    with op.batch_alter_table("drill_runs") as batch:
        batch.add_column(sa.Column("team", sa.String(120), nullable=True))
    op.create_index("ix_drill_runs_team", "drill_runs", ["team"])
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table)
    op.drop_index("ix_drill_runs_team", "drill_runs")
    with op.batch_alter_table("drill_runs") as batch:
        batch.drop_column("team")
    op.drop_index("ix_incidents_team", "incidents")
    op.drop_index("ix_incidents_occurred_on", "incidents")
    op.drop_table("incidents")
