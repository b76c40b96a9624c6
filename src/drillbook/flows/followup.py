"""The 30-day follow-up: did each fix from a reported exercise move?

"Moved" means the finding's history shows a status change since the report was written
(or the finding is no longer owed work); a change made before the report, even the same
day, is what the report already shows, not progress since. Items that did not move are
carried over: they become the first agenda item of the team's next tabletop brief
(:func:`carry_over_items`, consumed by the planning brief).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import String, func, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session, defer, lazyload

from drillbook import clock
from drillbook.clock import ensure_utc
from drillbook.domain.exercise.enums import ExerciseStatus
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.exercise.service import change_status
from drillbook.domain.finding.models import Finding, FindingEvent
from drillbook.domain.finding.rows import plain_findings

DEFAULT_DAYS = 30
# what the follow-up reads of a finding: its line, its output, ``is_active`` and ``overdue``
FOLLOWUP_COLUMNS = (
    "id",
    "number",
    "exercise_id",
    "severity",
    "status",
    "risk_expires",
    "due_date",
    "owner",
    "target_date",
    "proposed_remediation",
    "description",
)


@dataclass(frozen=True)
class FollowupItem:
    exercise: Exercise
    finding: Finding
    reported_on: date
    moved: bool
    last_change: date | None
    status: str

    @property
    def line(self) -> str:
        owner = self.finding.owner or "no owner"
        target = self.finding.target_date.isoformat() if self.finding.target_date else "no date"
        fix = " ".join((self.finding.proposed_remediation or self.finding.description).split())
        return (
            f"{self.finding.id} ({self.finding.severity}, {owner}, due {target}): {fix} "
            f"- not moved since the {self.exercise.scenario_id} tabletop on "
            f"{self.exercise.run_date.isoformat()}"
        )


def _reported_on(exercise: Exercise) -> date:
    return exercise.reported_at.date() if exercise.reported_at else exercise.run_date


def _reported_moment(exercise: Exercise) -> datetime:
    """When the report was written (the start of the run date for a run never reported
    through drillbook)."""
    return exercise.reported_at or datetime.combine(exercise.run_date, time.min, tzinfo=UTC)


def _moved_since(
    finding: Finding, since: datetime, last: datetime | None
) -> tuple[bool, date | None]:
    """``last``: the finding's latest status change (from :func:`_last_changes`)."""
    moved = (last is not None and last >= since) or not finding.is_active
    return moved, last.date() if last else None


def _last_changes(session: Session, finding_ids: list[str]) -> dict[str, datetime]:
    """Each finding's latest status change, by one ``GROUP BY`` (not its whole history)."""
    found: dict[str, datetime] = {}
    grouped = status_changes_index_query()
    for start in range(0, len(finding_ids), 5000):
        chunk = finding_ids[start : start + 5000]
        for finding_id, last in session.connection().execute(
            grouped.where(FindingEvent.finding_id.in_(chunk))
        ):
            found[finding_id] = ensure_utc(last)
    return found


def followup_items(
    session: Session,
    *,
    days: int = DEFAULT_DAYS,
    team: str | None = None,
    today: date | None = None,
) -> list[FollowupItem]:
    """Every fix of every exercise reported at least ``days`` days ago."""
    today = today or clock.today()
    cutoff = today - timedelta(days=days)
    query = (
        select(Exercise)
        # the timeline and the scenario snapshot are read only to record the follow-up
        .options(
            lazyload(Exercise.events),
            defer(Exercise.scenario_document),
            defer(Exercise.participants),
            defer(Exercise.next_actions),
        )
        .where(Exercise.status.in_([str(ExerciseStatus.REPORTED), str(ExerciseStatus.FOLLOWED_UP)]))
        .order_by(Exercise.run_date, Exercise.id)
    )
    if team:
        query = query.where(Exercise.team == team)
    due = [e for e in session.scalars(query) if _reported_on(e) <= cutoff]
    # One query for the fixes of every exercise due (not one per exercise).
    fixes: dict[int | None, list[Finding]] = {}
    due_ids = [e.id for e in due]
    for start in range(0, len(due_ids), 5000):
        # plain rows of the columns compared and shown (no ORM identity, no history, no
        # JSON column): a program's follow-up covers every fix of every reported exercise
        chunk = due_ids[start : start + 5000]
        for finding in plain_findings(session, FOLLOWUP_COLUMNS, Finding.exercise_id.in_(chunk)):
            fixes.setdefault(finding.exercise_id, []).append(finding)
    changes = _last_changes(session, [f.id for group in fixes.values() for f in group])
    items = []
    for exercise in due:
        reported = _reported_on(exercise)
        for finding in fixes.get(exercise.id, []):
            moved, last = _moved_since(finding, _reported_moment(exercise), changes.get(finding.id))
            items.append(FollowupItem(exercise, finding, reported, moved, last, finding.status))
    return items


ITEM_FIELDS = (
    "exercise",
    "finding",
    "moved",
    "status",
    "owner",
    "target_date",
    "last_change",
    "reported_on",
)  # what `followup --json` says of each item, in order


def item_summary(item: FollowupItem) -> dict[str, Any]:
    """One item as ``followup --json`` writes it (keys: :data:`ITEM_FIELDS`)."""
    values = {
        "exercise": item.exercise.label,
        "finding": item.finding.id,
        "moved": item.moved,
        "status": item.status,
        "owner": item.finding.owner,
        "target_date": item.finding.target_date,
        "last_change": item.last_change,
        "reported_on": item.reported_on,
    }
    return {name: values[name] for name in ITEM_FIELDS}


def followup_item_texts(
    session: Session,
    *,
    days: int = DEFAULT_DAYS,
    team: str | None = None,
    today: date | None = None,
) -> Iterator[str]:
    """The JSON text of :func:`item_summary` for each item of :func:`followup_items`, in
    the same order, written by the database: one query, no objects per fix (a program's
    follow-up covers every fix of every reported exercise: 100,000 took 2 to 3 s).

    The same definitions, in SQL: reported on the UTC day of ``reported_at`` (else the
    run date); moved when the latest status change (one with a ``from``) is at or after
    the report (at or after the start of the run date when there is no report time), or
    the finding is no longer owed work."""
    from sqlalchemy import and_, not_, or_

    from drillbook.domain.finding.service import _active_clause
    from drillbook.domain.program.sql import utc_day
    from drillbook.storage.jsonobject import json_object_of
    from drillbook.storage.jsontext import json_bool, json_day, json_text, sql_literal

    today = today or clock.today()
    cutoff = today - timedelta(days=days)
    # each finding's latest status change, grouped once (a lookup per fix, and per use,
    # was most of the time on PostgreSQL), from the partial index of status changes
    changes = status_changes_index_query().subquery()
    last = changes.c.last
    reported_on = func.coalesce(utc_day(Exercise.reported_at), Exercise.run_date)
    moved = or_(
        and_(Exercise.reported_at.is_not(None), last >= Exercise.reported_at),
        and_(Exercise.reported_at.is_(None), utc_day(last) >= Exercise.run_date),
        not_(_active_clause(today)),
    )
    texts = {
        "exercise": json_text(sql_literal("EX-") + sql_cast(Exercise.id, String)),
        "finding": json_text(Finding.id),
        "moved": json_bool(moved),
        "status": json_text(Finding.status),
        "owner": json_text(Finding.owner),
        "target_date": json_day(Finding.target_date),
        "last_change": json_day(utc_day(last)),
        "reported_on": json_day(reported_on),
    }
    item = json_object_of([(name, texts[name]) for name in ITEM_FIELDS])
    query = (
        select(item)
        .select_from(Finding)
        .join(Exercise, Exercise.id == Finding.exercise_id)
        .outerjoin(changes, changes.c.finding_id == Finding.id)
        .where(
            Exercise.status.in_([str(ExerciseStatus.REPORTED), str(ExerciseStatus.FOLLOWED_UP)]),
            reported_on <= cutoff,
        )
        .order_by(Exercise.run_date, Exercise.id, Finding.number)
    )
    if team:
        query = query.where(Exercise.team == team)
    # a few thousand rows a fetch: one call each through the result layer cost a fifth
    for texts_read in session.connection().execute(query).scalars().partitions(2000):
        yield from texts_read


def status_changes_index_query() -> Any:
    """``(finding_id, last)``: each finding's latest status change (an event of kind
    ``status`` with a ``from``), grouped by finding.

    The condition is the partial index's own predicate, written out as text
    (``ix_finding_events_status_changes``, migration 0021): both databases use the index
    only when they can see the value, and the grouping then reads that small index in
    ``finding_id`` order instead of every event."""
    from sqlalchemy import text

    from drillbook.domain.program.indexes import STATUS_CHANGES_PREDICATE

    events = FindingEvent.__table__.c
    return (
        select(events.finding_id, func.max(events.at).label("last"))
        .where(text(STATUS_CHANGES_PREDICATE))
        .group_by(events.finding_id)
    )


def carry_over_items(
    session: Session,
    team: str | None,
    *,
    days: int = DEFAULT_DAYS,
    before: Exercise | None = None,
) -> list[str]:
    """One line per fix that did not move, for the first agenda item of the next brief
    (``before``: that exercise, which is never its own carry-over)."""
    return [
        item.line
        for item in followup_items(session, days=days, team=team)
        if not item.moved and (before is None or item.exercise.id != before.id)
    ]


def record_followup(
    session: Session, items: list[FollowupItem], *, author: str | None = None
) -> list[str]:
    """Mark each reported exercise in ``items`` as followed up (a timeline event)."""
    done = []
    by_exercise: dict[int, list[FollowupItem]] = {}
    for item in items:
        by_exercise.setdefault(item.exercise.id, []).append(item)
    for group in by_exercise.values():
        exercise = group[0].exercise
        if exercise.status != ExerciseStatus.REPORTED:
            continue
        moved = sum(1 for i in group if i.moved)
        total = len(group)
        change_status(
            session,
            exercise,
            ExerciseStatus.FOLLOWED_UP,
            author=author,
            reason=f"follow-up: {moved} of {total} fixes moved",
        )
        done.append(exercise.label)
    return done


def verify_at_followup(
    session: Session, finding_ids: list[str], *, note: str | None, author: str | None = None
) -> list[str]:
    """Verify tabletop findings whose fix was shown to work at the follow-up (a walk-through,
    a re-run inject). Drill findings are verified by a passing drill, not by a meeting."""
    from drillbook.domain.finding.enums import FindingSource, FindingStatus
    from drillbook.domain.finding.service import get_finding, set_status
    from drillbook.errors import StateError

    if finding_ids and not (note and note.strip()):
        raise StateError("--verify needs --note saying how the fix was shown to work")
    verified = []
    for finding_id in finding_ids:
        finding = get_finding(session, finding_id)
        if finding.source != FindingSource.EXERCISE:
            raise StateError(
                f"{finding.id} is a {finding.source} finding: a passing drill verifies it, "
                "not a tabletop follow-up"
            )
        set_status(
            session,
            finding,
            str(FindingStatus.VERIFIED),
            note=f"verified at the tabletop follow-up: {note}",
            author=author,
        )
        verified.append(finding.id)
    return verified
