"""The web list of exercises a page at a time, newest first, scoped in SQL.

A program runs thousands of tabletops; the list page loaded every exercise with its
timeline (to work out a clock the list does not show) and filtered by team in Python:
1.4 s and 2 MB of HTML at 10,000 exercises. Here the database filters by the viewer's
team scope, orders by id descending and cuts one page of the columns the list shows; the
cursor is the last exercise shown (``EX-123``), and the next page starts below it by
keyset, so page 50 costs what page 1 costs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from drillbook.domain.account.access import Principal
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.exercise.service import parse_exercise_id
from drillbook.domain.program.scope import team_clause
from drillbook.errors import NotFoundError, UsageError

EXERCISE_PAGE = 100
MAX_PAGE = 1000


@dataclass(frozen=True)
class ExerciseRow:
    """What the list shows of one exercise."""

    id: int
    exercise: str  # EX-12
    scenario: str
    title: str
    team: str | None
    date: date
    status: str


@dataclass(frozen=True)
class ExercisePage:
    rows: list[ExerciseRow]
    next_cursor: str | None
    total: int


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise UsageError(f"limit {limit} is out of range; give 1 to {MAX_PAGE}")


def _cursor_id(cursor: str) -> int:
    """The exercise id a cursor names (``EX-3`` or ``3``); a malformed one is a usage
    error that says what a cursor is."""
    try:
        return parse_exercise_id(cursor)
    except NotFoundError:
        raise UsageError(f"cursor {cursor!r} is not an exercise id (write EX-3)") from None


def exercise_page(
    session: Session,
    viewer: Principal,
    *,
    limit: int = EXERCISE_PAGE,
    cursor: str | None = None,
) -> ExercisePage:
    """One page of the exercises ``viewer`` may see, newest first, with the next cursor."""
    _check_limit(limit)
    scope = team_clause(Exercise.team, viewer=viewer)
    columns = (
        Exercise.id,
        Exercise.scenario_id,
        Exercise.title,
        Exercise.team,
        Exercise.run_date,
        Exercise.status,
    )
    query: Any = select(*columns).order_by(Exercise.id.desc())
    counting: Any = select(func.count()).select_from(Exercise)
    if scope is not None:
        query, counting = query.where(scope), counting.where(scope)
    if cursor:
        query = query.where(Exercise.id < _cursor_id(cursor))
    found = [
        ExerciseRow(id_, f"EX-{id_}", scenario, title, team, run_date, status)
        for id_, scenario, title, team, run_date, status in session.execute(query.limit(limit + 1))
    ]
    more = len(found) > limit
    found = found[:limit]
    next_cursor = found[-1].exercise if more and found else None
    return ExercisePage(found, next_cursor, int(session.scalar(counting) or 0))


def visible_exercises(
    session: Session,
    viewer: Principal,
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> tuple[list[Exercise], str | None]:
    """The exercises ``viewer`` may see in id order as objects (``/api/exercises``), with
    ``limit`` one page after ``cursor`` and the next page's cursor (None on the last)."""
    if limit is not None:
        _check_limit(limit)
    query: Any = select(Exercise).order_by(Exercise.id)
    if (scope := team_clause(Exercise.team, viewer=viewer)) is not None:
        query = query.where(scope)
    if cursor:
        query = query.where(Exercise.id > _cursor_id(cursor))
    if limit is not None:
        query = query.limit(limit + 1)
    found = list(session.scalars(query))
    if limit is None or len(found) <= limit:
        return found, None
    return found[:limit], found[limit - 1].label
