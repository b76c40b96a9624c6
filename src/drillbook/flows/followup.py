"""The 30-day follow-up: did each fix from a reported exercise move?

"Moved" means the finding's history shows a status change after the report date (or
the finding is no longer owed work). Items that did not move are carried over: they
become the first agenda item of the team's next tabletop brief
(:func:`carry_over_items`, consumed by the planning brief).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.domain.exercise.enums import ExerciseStatus
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.exercise.service import change_status
from drillbook.domain.finding.enums import EvidenceKind
from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.service import list_findings

DEFAULT_DAYS = 30


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


def _moved_since(finding: Finding, since: date) -> tuple[bool, date | None]:
    changes = [
        e.at.date()
        for e in finding.history
        if e.kind == EvidenceKind.STATUS and e.from_status is not None
    ]
    last = max(changes) if changes else None
    moved = (last is not None and last >= since) or not finding.is_active
    return moved, last


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
        .where(Exercise.status.in_([str(ExerciseStatus.REPORTED), str(ExerciseStatus.FOLLOWED_UP)]))
        .order_by(Exercise.run_date, Exercise.id)
    )
    if team:
        query = query.where(Exercise.team == team)
    items = []
    for exercise in session.scalars(query):
        reported = _reported_on(exercise)
        if reported > cutoff:
            continue
        for finding in list_findings(session, exercise_id=exercise.id):
            moved, last = _moved_since(finding, reported)
            items.append(FollowupItem(exercise, finding, reported, moved, last, finding.status))
    return items


def carry_over_items(session: Session, team: str | None, *, days: int = DEFAULT_DAYS) -> list[str]:
    """One line per fix that did not move, for the first agenda item of the next brief."""
    return [item.line for item in followup_items(session, days=days, team=team) if not item.moved]


def record_followup(
    session: Session, items: list[FollowupItem], *, author: str | None = None
) -> list[str]:
    """Mark each reported exercise in ``items`` as followed up (a timeline event)."""
    done = []
    seen: set[int] = set()
    for item in items:
        exercise = item.exercise
        if exercise.id in seen or exercise.status != ExerciseStatus.REPORTED:
            continue
        seen.add(exercise.id)
        moved = sum(1 for i in items if i.exercise.id == exercise.id and i.moved)
        total = sum(1 for i in items if i.exercise.id == exercise.id)
        change_status(
            session,
            exercise,
            ExerciseStatus.FOLLOWED_UP,
            author=author,
            reason=f"follow-up: {moved} of {total} fixes moved",
        )
        done.append(exercise.label)
    return done
