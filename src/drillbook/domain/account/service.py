"""Account services: local accounts with argon2 hashes, invitations, the audit log.

Plain functions taking the session first (the Dispatch shape). Nothing here knows about
HTTP: the web edge turns a signed cookie into an :class:`Account` or an
:class:`Invitation` and asks :mod:`drillbook.domain.account.access` what it may see.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.domain.account.enums import AccountRole
from drillbook.domain.account.models import Account, AuditEntry, Invitation, WebSecret
from drillbook.domain.exercise.enums import ExerciseStatus
from drillbook.domain.exercise.models import Exercise
from drillbook.errors import AccessDenied, ConflictError, NotFoundError, StateError

MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
_HASHER = PasswordHasher()
# Verified when a username is unknown, so a wrong name costs as long as a wrong password
# (no user enumeration by timing).
_DUMMY_HASH = _HASHER.hash("drillbook-no-such-account")
_FINISHED = (ExerciseStatus.IN_REVIEW, ExerciseStatus.REPORTED, ExerciseStatus.FOLLOWED_UP)


def parse_role(value: str) -> AccountRole:
    key = value.strip().lower()
    try:
        return AccountRole(key)
    except ValueError:
        allowed = ", ".join(AccountRole)
        raise StateError(f"unknown role '{value}'; use one of: {allowed}") from None


def create_account(
    session: Session,
    *,
    username: str,
    password: str,
    role: AccountRole | str,
    team: str | None = None,
    display_name: str | None = None,
) -> Account:
    """A new local account. Every role but admin belongs to one team."""
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise StateError(
            f"'{username}' is not a usable username: 2-63 characters, lower-case letters, "
            "digits, '.', '_' or '-', starting with a letter or digit"
        )
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StateError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    chosen = role if isinstance(role, AccountRole) else parse_role(role)
    team_id = team.strip() if team and team.strip() else None
    if chosen != AccountRole.ADMIN and team_id is None:
        raise StateError(f"a {chosen} account belongs to a team; give --team")
    if session.scalar(select(Account.id).where(Account.username == name)) is not None:
        raise ConflictError(f"an account named '{name}' already exists")
    account = Account(
        username=name,
        display_name=(display_name or name).strip() or name,
        password_hash=_HASHER.hash(password),
        role=str(chosen),
        team=team_id,
        created_at=clock.now(),
        disabled=False,
    )
    session.add(account)
    session.flush()
    return account


def authenticate(session: Session, username: str, password: str) -> Account:
    """The account for these credentials, else :class:`AccessDenied` (the same message
    whether the name or the password was wrong)."""
    account = session.scalar(select(Account).where(Account.username == username.strip().lower()))
    try:
        _HASHER.verify(account.password_hash if account else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise AccessDenied("wrong username or password") from None
    if account is None or account.disabled:
        raise AccessDenied("wrong username or password")
    if _HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = _HASHER.hash(password)
    return account


def get_account(session: Session, account_id: int) -> Account | None:
    account = session.get(Account, account_id)
    return None if account is None or account.disabled else account


def list_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.username)))


def signing_secret(session: Session, name: str = "session") -> str:
    """The store-wide random key ``name``, made on first use. Two workers racing to make
    it both end up with the row that was committed first."""
    found = session.get(WebSecret, name)
    if found is not None:
        return found.value
    value = secrets.token_urlsafe(48)
    try:
        with session.begin_nested():
            session.add(WebSecret(name=name, value=value))
    except IntegrityError:
        stored = session.get(WebSecret, name)
        assert stored is not None
        return stored.value
    return value


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_invitation(
    session: Session, exercise: Exercise, *, seat: str, display_name: str, created_by: str
) -> tuple[Invitation, str]:
    """An invitation for one seat of ``exercise``; returns it with its secret token (shown
    once: only its digest is stored)."""
    if ExerciseStatus(exercise.status) in _FINISHED:
        raise StateError(f"{exercise.label} has ended; it takes no more participants")
    seat_name = seat.strip().lower().replace(" ", "_").replace("-", "_")
    if not re.match(r"^[a-z][a-z0-9_]{0,79}$", seat_name):
        raise StateError(f"'{seat}' is not a seat name (e.g. incident_commander, observer)")
    person = display_name.strip()
    if not person or len(person) > 200:
        raise StateError("an invitation needs the participant's name (up to 200 characters)")
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        token_digest=_digest(token),
        exercise_id=exercise.id,
        seat=seat_name,
        display_name=person,
        created_by=created_by,
        created_at=clock.now(),
        revoked=False,
    )
    session.add(invitation)
    session.flush()
    return invitation, token


def invitation_usable(invitation: Invitation, exercise: Exercise | None) -> bool:
    """An invitation works until it is revoked or its exercise ends."""
    if invitation.revoked or exercise is None or exercise.id != invitation.exercise_id:
        return False
    return ExerciseStatus(exercise.status) not in _FINISHED


def redeem_invitation(session: Session, token: str) -> Invitation:
    invitation = session.scalar(select(Invitation).where(Invitation.token_digest == _digest(token)))
    if invitation is None:
        raise AccessDenied("this invitation link is not valid; ask the facilitator for a new one")
    if not invitation_usable(invitation, session.get(Exercise, invitation.exercise_id)):
        raise AccessDenied("this invitation has expired: its exercise has ended")
    return invitation


def get_invitation(session: Session, invitation_id: int) -> Invitation:
    found = session.get(Invitation, invitation_id)
    if found is None:
        raise NotFoundError(f"no invitation {invitation_id}")
    return found


def audit(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str | None = None,
    remote: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one line to the audit log (never updated, never deleted)."""
    entry = AuditEntry(
        at=clock.now(),
        actor=actor[:200],
        action=action[:80],
        target=target[:200] if target else None,
        remote=remote[:200] if remote else None,
        detail=dict(detail or {}),
    )
    session.add(entry)
    session.flush()
    return entry


def audit_entries(session: Session, *, limit: int = 200) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    return list(session.scalars(query))
