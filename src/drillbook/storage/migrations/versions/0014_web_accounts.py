"""Web accounts, invitations, signing secrets, the append-only audit log, a team on drill
runs, and (PostgreSQL) a NOTIFY on every timeline change for the live feed.

Revision ID: 0014_web_accounts
Revises: 0003_drill
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from drillbook.storage.base import UTCDateTime

revision = "0014_web_accounts"
down_revision = "0003_drill"
branch_labels = None
depends_on = "0002_exercise_finding"

_SQLITE_APPEND_ONLY = [
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
]
_POSTGRES = [
    """CREATE FUNCTION drillbook_audit_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION drillbook_audit_append_only()",
    """CREATE FUNCTION drillbook_notify_exercise() RETURNS trigger AS $$
    BEGIN
        PERFORM pg_notify('drillbook_exercise', current_schema() || ':' || NEW.exercise_id);
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER exercise_events_notify AFTER INSERT OR UPDATE ON exercise_events "
    "FOR EACH ROW EXECUTE FUNCTION drillbook_notify_exercise()",
]


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("team", sa.String(200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("username", name=op.f("uq_accounts_username")),
    )
    op.create_index(op.f("ix_accounts_team"), "accounts", ["team"])
    op.create_table(
        "invitations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("token_digest", sa.String(64), nullable=False),
        sa.Column("exercise_id", sa.Integer(), nullable=False),
        sa.Column("seat", sa.String(80), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_invitations_token_digest")),
    )
    op.create_index(op.f("ix_invitations_exercise_id"), "invitations", ["exercise_id"])
    op.create_table(
        "web_secrets",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_web_secrets")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(80), nullable=False),
        sa.Column("target", sa.String(200), nullable=True),
        sa.Column("remote", sa.String(200), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])
    with op.batch_alter_table("drill_runs") as batch:
        batch.add_column(sa.Column("team", sa.String(200), nullable=True))
        batch.create_index(batch.f("ix_drill_runs_team"), ["team"])
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_APPEND_ONLY if dialect == "sqlite" else _POSTGRES:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS exercise_events_notify ON exercise_events")
        op.execute("DROP FUNCTION IF EXISTS drillbook_notify_exercise()")
    with op.batch_alter_table("drill_runs") as batch:
        batch.drop_index(batch.f("ix_drill_runs_team"))
        batch.drop_column("team")
    op.drop_table("audit_log")
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS drillbook_audit_append_only()")
    op.drop_table("web_secrets")
    op.drop_table("invitations")
    op.drop_table("accounts")
