"""Who may see and do what: the one place the web app's access rules live.

A :class:`Principal` is whoever is acting: a signed-in account, or a guest holding an
invitation for one seat of one exercise. Every rule is a plain function of the principal
and a record, so the same rules can be tested without HTTP and reused by any edge.

Team scoping: an admin sees every team; any other account sees its own team's records and
records that belong to no team (organisation-wide). A guest sees its one exercise only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from drillbook.domain.account.enums import AccountRole
from drillbook.domain.exercise.enums import EventKind
from drillbook.domain.exercise.models import Exercise
from drillbook.errors import AccessDenied, NotFoundError

T = TypeVar("T")

OBSERVER_SEAT = "observer"
COMMS_SEATS = frozenset({"comms_lead", "communications_lead", "comms"})


class Audience(StrEnum):
    """Which cut of an exercise a principal is shown."""

    FACILITATOR = "facilitator"  # the script, the next inject's text, every note
    OBSERVER = "observer"  # observer notes and gaps, no script
    PARTICIPANT = "participant"  # the scenario as it stands; no notes, no script
    ROOM = "room"  # the wall screen: like a participant, in large type


@dataclass(frozen=True)
class Principal:
    """Who is acting. ``account_id`` for accounts, ``invitation_id`` for guests."""

    name: str
    role: AccountRole | None = None
    team: str | None = None
    username: str | None = None
    account_id: int | None = None
    invitation_id: int | None = None
    exercise_id: int | None = None
    seat: str | None = None

    @property
    def is_guest(self) -> bool:
        return self.invitation_id is not None

    @property
    def is_admin(self) -> bool:
        return self.role == AccountRole.ADMIN

    @property
    def label(self) -> str:
        """How the audit log names this principal."""
        if self.is_guest:
            return f"guest:{self.name} ({self.seat}, EX-{self.exercise_id})"
        return f"{self.username}"

    def at_least(self, role: AccountRole) -> bool:
        return self.role is not None and self.role.at_least(role)


def can_see_team(principal: Principal, team: str | None) -> bool:
    if principal.is_guest:
        return False
    if principal.is_admin:
        return True
    return team is None or team == principal.team


def visible(principal: Principal, rows: Iterable[T], team_of: Callable[[T], str | None]) -> list[T]:
    """The rows of a list this principal may see (every list goes through here)."""
    return [row for row in rows if can_see_team(principal, team_of(row))]


def can_see_exercise(principal: Principal, exercise: Exercise) -> bool:
    if principal.is_guest:
        return principal.exercise_id == exercise.id
    return can_see_team(principal, exercise.team)


def require_visible(principal: Principal, team: str | None, what: str) -> None:
    """A record of another team is answered exactly like a missing one (404), so ids do
    not reveal what other teams have."""
    if not can_see_team(principal, team):
        raise NotFoundError(f"no {what}")


def require_exercise(principal: Principal, exercise: Exercise) -> None:
    if not can_see_exercise(principal, exercise):
        raise NotFoundError(f"no exercise {exercise.label} (see `drillbook exercise list`)")


def can_facilitate(principal: Principal, exercise: Exercise | None, team: str | None) -> bool:
    """Facilitators run their own team's exercises; admins run any."""
    if principal.is_guest or not principal.at_least(AccountRole.FACILITATOR):
        return False
    return can_see_team(principal, exercise.team if exercise is not None else team)


def require_facilitator(principal: Principal, exercise: Exercise | None, team: str | None) -> None:
    if not can_facilitate(principal, exercise, team):
        raise AccessDenied("only a facilitator of this team may do that")


def audience_of(principal: Principal, exercise: Exercise) -> Audience:
    if can_facilitate(principal, exercise, None):
        return Audience.FACILITATOR
    if principal.is_guest:
        return Audience.OBSERVER if principal.seat == OBSERVER_SEAT else Audience.PARTICIPANT
    if principal.at_least(AccountRole.MEMBER):
        return Audience.OBSERVER
    return Audience.PARTICIPANT


def may_record(principal: Principal, exercise: Exercise, kind: EventKind) -> bool:
    """Decisions: any seat or team member. Observer notes: observers, members and
    facilitators. Viewers only look."""
    if not can_see_exercise(principal, exercise):
        return False
    if principal.is_guest:
        if kind == EventKind.OBSERVATION:
            return principal.seat == OBSERVER_SEAT
        return kind in (EventKind.DECISION, EventKind.NOTE)
    return principal.at_least(AccountRole.MEMBER)


def may_draft_comms(principal: Principal, exercise: Exercise) -> bool:
    if principal.is_guest:
        return principal.exercise_id == exercise.id and principal.seat in COMMS_SEATS
    return can_see_exercise(principal, exercise) and principal.at_least(AccountRole.MEMBER)


def require_record(principal: Principal, exercise: Exercise, kind: EventKind) -> None:
    require_exercise(principal, exercise)
    if not may_record(principal, exercise, kind):
        raise AccessDenied(f"your seat may not log a {kind} here")


def may_manage_accounts(principal: Principal) -> bool:
    return principal.is_admin
