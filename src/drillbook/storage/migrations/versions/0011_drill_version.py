"""A version column on drill runs: their state changes are conditional updates.

Revision ID: 0011_drill_version
Revises: 0003_drill
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_drill_version"
down_revision = "0003_drill"
branch_labels = None
depends_on = None

VERSIONED = ("drill_runs",)


def upgrade() -> None:
    for table in VERSIONED:
        op.add_column(table, sa.Column("version", sa.Integer(), nullable=False, server_default="1"))


def downgrade() -> None:
    for table in VERSIONED:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
