"""What the planner's brief needs from a planned exercise, and recording that it was sent.

``drillbook exercise brief`` (planning) renders the pre-read from a scenario. When it is
given a stored exercise, :func:`brief_inputs` supplies the seats already assigned, the
team, and the fixes carried over from that team's last follow-up (first agenda item, per
the first seed); :func:`mark_brief_sent` moves the exercise from planned to briefed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from drillbook.domain.exercise import service
from drillbook.domain.exercise.enums import ExerciseStatus
from drillbook.flows.followup import DEFAULT_DAYS, carry_over_items


@dataclass(frozen=True)
class BriefInputs:
    exercise: str
    scenario_id: str
    team: str | None
    roles: dict[str, str]
    carry_over: list[str]


def brief_inputs(
    session: Session, exercise_id: str | int | None = None, *, days: int = DEFAULT_DAYS
) -> BriefInputs:
    exercise = service.get_exercise(session, exercise_id)
    return BriefInputs(
        exercise=exercise.label,
        scenario_id=exercise.scenario_id,
        team=exercise.team,
        roles=service.current_roles(exercise),
        carry_over=carry_over_items(session, exercise.team, days=days),
    )


def mark_brief_sent(
    session: Session, exercise_id: str | int | None = None, *, author: str | None = None
) -> bool:
    """Planned -> briefed; False (and nothing logged) when it is past that already."""
    exercise = service.get_exercise(session, exercise_id)
    if exercise.status != ExerciseStatus.PLANNED:
        return False
    service.mark_briefed(session, exercise, author=author)
    return True
