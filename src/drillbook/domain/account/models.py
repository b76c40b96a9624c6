"""Tables of accounts: users, invitations, the signing secret, the web audit log.

Passwords are stored only as argon2 hashes. Invitation tokens are stored only as their
SHA-256 digest, so a copy of the database does not hand out seats. The audit log is
append-only: the migration installs triggers that refuse UPDATE and DELETE on both
SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from drillbook.storage.base import Base


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(20))
    team: Mapped[str | None] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(default=False)


class Invitation(Base):
    """A link for one exercise and one seat, usable without an account."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    exercise_id: Mapped[int] = mapped_column(index=True)
    seat: Mapped[str] = mapped_column(String(80))
    display_name: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(default=False)


class WebSecret(Base):
    """Random keys the web app signs cookies with; in the store so every worker process
    (and a restarted server) verifies the same sessions."""

    __tablename__ = "web_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AuditEntry(Base):
    """One change made through the web: who, what, when, from where."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(80))
    target: Mapped[str | None] = mapped_column(String(200))
    remote: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]]


class ApiToken(Base):
    """A bearer token an agent (an MCP client) uses for one account over HTTP. Only the
    SHA-256 digest of the secret is stored; ``client`` names the agent in the audit log."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(index=True)
    client: Mapped[str] = mapped_column(String(80))
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked: Mapped[bool] = mapped_column(default=False)
