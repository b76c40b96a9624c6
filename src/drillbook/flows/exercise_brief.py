"""What the planner's brief needs from a planned exercise, and recording that it was sent.

``drillbook exercise brief`` (planning) renders the pre-read from a scenario. When it is
given a stored exercise, :func:`brief_inputs` supplies the seats already assigned, the
team, and the fixes carried over from that team's last follow-up (first agenda item, per
the first seed); :func:`mark_brief_sent` moves the exercise from planned to briefed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from drillbook.domain.exercise import service
from drillbook.domain.exercise.enums import ExerciseStatus
from drillbook.flows.followup import carry_over_items


@dataclass(frozen=True)
class BriefInputs:
    exercise: str
    scenario_id: str
    team: str | None
    roles: dict[str, str]
    carry_over: list[str]
    session_date: date
    session_start: datetime | None


def brief_inputs(session: Session, exercise_id: str | int | None = None) -> BriefInputs:
    """The stored exercise's seats, date and carry-over. Every fix of the team's earlier
    reported exercises that has not moved since its report opens the brief, however long
    ago (or recently) that report was: the next tabletop is when the team meets again."""
    exercise = service.get_exercise(session, exercise_id)
    return BriefInputs(
        exercise=exercise.label,
        scenario_id=exercise.scenario_id,
        team=exercise.team,
        roles=service.current_roles(exercise),
        carry_over=carry_over_items(session, exercise.team, days=0, before=exercise),
        session_date=exercise.run_date,
        session_start=service.scheduled_start(exercise),
    )


def schedule_exercise(
    session: Session,
    exercise_id: str | int | None,
    start: datetime,
    *,
    author: str | None = None,
) -> None:
    """Store the session's date and start on the exercise (``brief -e ... --date``)."""
    service.reschedule(session, service.get_exercise(session, exercise_id), start, author=author)


def mark_brief_sent(
    session: Session, exercise_id: str | int | None = None, *, author: str | None = None
) -> bool:
    """Planned -> briefed; False (and nothing logged) when it is past that already."""
    exercise = service.get_exercise(session, exercise_id)
    if exercise.status != ExerciseStatus.PLANNED:
        return False
    service.mark_briefed(session, exercise, author=author)
    return True
