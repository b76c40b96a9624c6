"""The program: incidents, the team of a drill run, indexes for metrics and big backlogs.

Revision ID: 0016_program
Revises: 0004_detection; depends on 0014_web_accounts (which depends on the findings and
drill branches)

``drill_runs.team`` is added by ``0014_web_accounts``; this revision adds it only on a
store where the column is somehow missing.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drillbook.storage.base import UTCDateTime

revision = "0016_program"
_WEB_ACCOUNTS = "0014_web_accounts"
down_revision = "0004_detection"
branch_labels = None
# The findings and drill tables are other branches: depended on, not merged.
# 0014_web_accounts already depends on 0002_exercise_finding and follows 0003_drill, and
# naming 0002 again here makes Alembic fail.
depends_on: tuple[str, ...] = (_WEB_ACCOUNTS,)

_INDEXES = (
    ("ix_findings_created_at", "findings", ["created_at"]),
    ("ix_findings_closed_at", "findings", ["closed_at"]),
    ("ix_findings_status_due_date", "findings", ["status", "due_date"]),
    ("ix_findings_team_created_at", "findings", ["team", "created_at"]),
    ("ix_finding_events_finding_id_at", "finding_events", ["finding_id", "at"]),
    ("ix_exercises_team_run_date", "exercises", ["team", "run_date"]),
    ("ix_detection_results_checked_at", "detection_results", ["checked_at"]),
)


def _has_column(table: str, column: str) -> bool:
    return column in {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


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
    if not _has_column("drill_runs", "team"):
        with op.batch_alter_table("drill_runs") as batch:
            batch.add_column(sa.Column("team", sa.String(200), nullable=True))
        op.create_index("ix_drill_runs_team", "drill_runs", ["team"])
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table)
    if _WEB_ACCOUNTS not in depends_on:
        op.drop_index("ix_drill_runs_team", "drill_runs")
        with op.batch_alter_table("drill_runs") as batch:
            batch.drop_column("team")
    op.drop_index("ix_incidents_team", "incidents")
    op.drop_index("ix_incidents_occurred_on", "incidents")
    op.drop_table("incidents")
