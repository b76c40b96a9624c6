"""API tokens: how an agent signs in to the MCP server over HTTP.

A token belongs to one account and names the client it was issued for (``claude-desktop``,
``ci-agent``); the agent acts with that account's role and team, and the audit log names
both. The secret is shown once; only its SHA-256 digest is stored (a copy of the
database hands out nothing), and a revoked token or a disabled account stops working at
once because both are read again on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.domain.account.models import Account, ApiToken
from drillbook.errors import AccessDenied, NotFoundError, StateError

PREFIX = "dbk_"
"""Tokens start with this, so a leaked one is recognisable (secret scanners, logs)."""
_CLIENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_SHAPE = re.compile(r"^dbk_[A-Za-z0-9_-]{20,100}$")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def issue_token(session: Session, account: Account, *, client: str) -> tuple[ApiToken, str]:
    """A new token for ``account``; returns it with its secret (shown once)."""
    name = client.strip()
    if not _CLIENT.match(name):
        raise StateError(
            f"'{client}' is not a usable client name: up to 80 letters, digits, '.', '_' "
            "or '-', starting with a letter or digit"
        )
    if account.disabled:
        raise StateError(f"account {account.username} is disabled; it gets no tokens")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        account_id=account.id,
        client=name,
        token_digest=_digest(secret),
        created_at=clock.now(),
        revoked=False,
    )
    session.add(token)
    session.flush()
    return token, secret


def authenticate_token(session: Session, secret: str) -> tuple[Account, ApiToken]:
    """The account and token for a bearer secret, else :class:`AccessDenied` (the same
    message for a malformed, unknown or revoked token, or a disabled account)."""
    refused = AccessDenied("unknown or revoked API token")
    if not _SHAPE.match(secret):
        raise refused
    digest = _digest(secret)
    token = session.scalar(select(ApiToken).where(ApiToken.token_digest == digest))
    if token is None or token.revoked or not hmac.compare_digest(token.token_digest, digest):
        raise refused
    account = session.get(Account, token.account_id)
    if account is None or account.disabled:
        raise refused
    return account, token


def list_tokens(session: Session, account: Account | None = None) -> list[ApiToken]:
    query = select(ApiToken).order_by(ApiToken.id)
    if account is not None:
        query = query.where(ApiToken.account_id == account.id)
    return list(session.scalars(query))


def revoke_token(session: Session, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFoundError(f"no API token {token_id} (see `drillbook user tokens`)")
    token.revoked = True
    session.flush()
    return token


def account_named(session: Session, username: str) -> Account:
    account = session.scalar(select(Account).where(Account.username == username.strip().lower()))
    if account is None:
        raise NotFoundError(f"no account '{username}' (see `drillbook user list`)")
    return account
