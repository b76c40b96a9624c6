"""A finding's lifecycle: which status may follow which, and what each move must say.

The seed's failure modes are findings that never close and fixes that never ship; a
backlog where any status can follow any other hides both. So the moves are a table:

    open ─────────► in_progress ─────► resolved ─────► verified
      │  ◄──────────────┘                 │   (fix shipped,      │
      │                                   │    awaiting proof)   │
      ├──► risk_accepted (reason + expiry; reopens by itself) ◄──┘ reopen (reason)
      └──► wont_do (reason: ends without verification)

* **resolved** means "fix shipped, awaiting verification"; a drill that passes (or a
  tabletop follow-up) moves it to **verified**;
* reopening (back to open or in_progress from any closed state), accepting a risk, and
  ending without verification (wont_do, or verified without passing through resolved)
  need a **reason**, kept in the history;
* a risk acceptance needs an expiry in the future, and :func:`reopen_expired_risks`
  reopens it once that date has passed.

:func:`check_transition` is the one gate the status-change service calls;
:func:`replay` rebuilds the current status from the history, so the history is the
record and the status column its summary.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from drillbook.domain.finding.enums import EvidenceKind, FindingStatus
from drillbook.errors import StateError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from drillbook.domain.finding.models import Finding, FindingEvent

S = FindingStatus

#: Who reopens an expired risk acceptance (the history's author).
SYSTEM_AUTHOR = "drillbook"


@dataclass(frozen=True)
class Move:
    """One allowed transition and what it needs."""

    target: FindingStatus
    needs_reason: bool = False
    why: str = ""

    def describe(self) -> str:
        return f"{self.target} (with a reason)" if self.needs_reason else str(self.target)


def _reopen(target: FindingStatus) -> Move:
    return Move(target, needs_reason=True, why="reopening")


_ACCEPT = Move(S.RISK_ACCEPTED, needs_reason=True, why="accepting a risk")
_WONT_DO = Move(S.WONT_DO, needs_reason=True, why="ending without verification")
_VERIFY_UNRESOLVED = Move(
    S.VERIFIED, needs_reason=True, why="verifying without a shipped fix (name the proof)"
)

#: The allowed transitions, by current status.
TRANSITIONS: dict[FindingStatus, tuple[Move, ...]] = {
    S.OPEN: (Move(S.IN_PROGRESS), Move(S.RESOLVED), _VERIFY_UNRESOLVED, _ACCEPT, _WONT_DO),
    S.IN_PROGRESS: (
        Move(S.OPEN),
        Move(S.RESOLVED),
        _VERIFY_UNRESOLVED,
        _ACCEPT,
        _WONT_DO,
    ),
    S.RESOLVED: (Move(S.VERIFIED), _reopen(S.OPEN), _reopen(S.IN_PROGRESS), _WONT_DO),
    S.VERIFIED: (_reopen(S.OPEN), _reopen(S.IN_PROGRESS)),
    S.RISK_ACCEPTED: (
        _reopen(S.OPEN),
        _reopen(S.IN_PROGRESS),
        Move(S.RESOLVED),
        Move(S.RISK_ACCEPTED, needs_reason=True, why="renewing a risk acceptance"),
        _WONT_DO,
    ),
    S.WONT_DO: (_reopen(S.OPEN), _reopen(S.IN_PROGRESS)),
}


def allowed_from(current: FindingStatus | str) -> tuple[Move, ...]:
    return TRANSITIONS[FindingStatus(current)]


def describe_allowed(current: FindingStatus | str) -> str:
    return ", ".join(move.describe() for move in allowed_from(current))


def check_transition(
    current: FindingStatus | str,
    target: FindingStatus | str,
    *,
    reason: str | None,
    expires: date | None,
    today: date,
    finding_id: str = "the finding",
) -> Move:
    """The move from ``current`` to ``target``, or :class:`StateError` naming the allowed
    ones (or the missing reason or expiry). Pure: the caller records the history."""
    here, there = FindingStatus(current), FindingStatus(target)
    move = next((m for m in allowed_from(here) if m.target == there), None)
    if move is None:
        if here == there:
            raise StateError(
                f"{finding_id} is already {there}; from {here} it can move to: "
                f"{describe_allowed(here)}"
            )
        raise StateError(
            f"{finding_id} cannot move from {here} to {there}; "
            f"from {here} it can move to: {describe_allowed(here)}"
        )
    if there == S.RISK_ACCEPTED:
        if expires is None:
            raise StateError(
                f"accepting a risk on {finding_id} needs an expiry date (--expires YYYY-MM-DD)"
            )
        if expires <= today:
            raise StateError(f"risk acceptance expiry {expires} is not in the future")
    elif expires is not None:
        raise StateError("--expires only applies to risk_accepted")
    if move.needs_reason and not (reason and reason.strip()):
        raise StateError(
            f"{move.why} ({here} -> {there}) on {finding_id} needs a reason (--note '...')"
        )
    return move


def replay(events: Iterable[FindingEvent]) -> FindingStatus | None:
    """The status the history leads to, checking each step starts where the last ended
    (a broken chain means someone wrote the status column without a history line)."""
    status: FindingStatus | None = None
    for event in events:
        if event.kind != EvidenceKind.STATUS:
            continue
        if (event.from_status or None) != (str(status) if status else None):
            raise StateError(
                f"history breaks at {event.at:%Y-%m-%d %H:%M}: moves from "
                f"{event.from_status} but the finding was {status}"
            )
        status = FindingStatus(event.to_status or "")
    return status


def reopen_expired_risks(session: Session, today: date) -> list[Finding]:
    """Reopen every risk acceptance whose expiry has passed, with a history line saying
    so. Safe to call from any command (it changes nothing twice)."""
    from sqlalchemy import select

    from drillbook.domain.finding.models import Finding
    from drillbook.domain.finding.service import set_status

    expired = session.scalars(
        select(Finding)
        .where(
            Finding.status == str(S.RISK_ACCEPTED),
            Finding.risk_expires.is_not(None),
            Finding.risk_expires < today,
        )
        .order_by(Finding.number)
    ).all()
    for finding in expired:
        set_status(
            session,
            finding,
            str(S.OPEN),
            note=f"risk acceptance expired on {finding.risk_expires}",
            author=SYSTEM_AUTHOR,
        )
    return list(expired)
