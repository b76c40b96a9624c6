"""Exercise runs, their timelines, and the findings backlog.

Revision ID: 0002_exercise_finding
Revises: 0001_core
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drillbook.storage.base import UTCDateTime

revision = "0002_exercise_finding"
down_revision = "0001_core"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exercises",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.String(), nullable=False),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("team", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("scenario_document", sa.JSON(), nullable=True),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("next_actions", sa.JSON(), nullable=False),
        sa.Column("next_tabletop", sa.Date(), nullable=True),
        sa.Column("reported_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_exercises"),
    )
    op.create_index("ix_exercises_scenario_id", "exercises", ["scenario_id"])
    op.create_index("ix_exercises_team", "exercises", ["team"])
    op.create_index("ix_exercises_status", "exercises", ["status"])

    op.create_table(
        "exercise_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("author", sa.String(), nullable=True),
        sa.Column("role", sa.String(), nullable=True),
        sa.Column("phase", sa.String(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["exercise_id"], ["exercises.id"], name="fk_exercise_events_exercise_id_exercises"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_exercise_events"),
    )
    op.create_index("ix_exercise_events_exercise_id", "exercise_events", ["exercise_id"])

    op.create_table(
        "findings",
        sa.Column("id", sa.String(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("proposed_remediation", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(), nullable=True),
        sa.Column("team", sa.String(), nullable=True),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("change_type", sa.String(), nullable=True),
        sa.Column("capability", sa.String(), nullable=True),
        sa.Column("fix_location", sa.String(), nullable=True),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("source_ref", sa.String(), nullable=True),
        sa.Column("exercise_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.String(), nullable=True),
        sa.Column("technique", sa.String(), nullable=True),
        sa.Column("target_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("risk_expires", sa.Date(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_findings"),
        sa.UniqueConstraint("number", name="uq_findings_number"),
    )
    op.create_index("ix_findings_team", "findings", ["team"])
    op.create_index("ix_findings_status", "findings", ["status"])
    op.create_index("ix_findings_capability", "findings", ["capability"])
    op.create_index("ix_findings_exercise_id", "findings", ["exercise_id"])

    op.create_table(
        "finding_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.String(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("from_status", sa.String(), nullable=True),
        sa.Column("to_status", sa.String(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("source_ref", sa.String(), nullable=True),
        sa.Column("author", sa.String(), nullable=True),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["findings.id"], name="fk_finding_events_finding_id_findings"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_finding_events"),
    )
    op.create_index("ix_finding_events_finding_id", "finding_events", ["finding_id"])

    counters = op.create_table(
        "finding_counters",
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_finding_counters"),
    )
    op.bulk_insert(counters, [{"name": "finding", "value": 0}])


def downgrade() -> None:
    op.drop_table("finding_counters")
    op.drop_index("ix_finding_events_finding_id", "finding_events")
    op.drop_table("finding_events")
    for column in ("exercise_id", "capability", "status", "team"):
        op.drop_index(f"ix_findings_{column}", "findings")
    op.drop_table("findings")
    op.drop_index("ix_exercise_events_exercise_id", "exercise_events")
    op.drop_table("exercise_events")
    for column in ("status", "team", "scenario_id"):
        op.drop_index(f"ix_exercises_{column}", "exercises")
    op.drop_table("exercises")
