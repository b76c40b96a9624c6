"""The program's read side across domains: metrics with their signals, for one period.

Crosses the library (scenarios, people, SLA, review cadence) and the store (exercises,
drills, findings, detection results), so it lives in ``flows``; the CLI, the evidence
pack and the web app call the same function and say the same thing.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.documents.durations import parse_duration
from drillbook.domain.program.gaps import start_gap_groups
from drillbook.domain.program.metrics import ProgramMetrics, compute_metrics
from drillbook.domain.program.periods import Period, quarter_of, quarters_from, span
from drillbook.domain.program.signals import find_signals
from drillbook.library.loader import Library

DEFAULT_QUARTERS = 4


def default_period(today: date | None = None, quarters: int = DEFAULT_QUARTERS) -> Period:
    """The last ``quarters`` quarters, ending with the one containing today."""
    current = quarter_of(today or clock.today())
    first = current
    for _ in range(quarters - 1):
        first = quarter_of(first.start - timedelta(days=1))
    return span(quarters_from(first, quarters))


def review_every(library: Library) -> timedelta:
    cadence = library.program.cadence if library.program else None
    return parse_duration(cadence.review_library_every if cadence else "13w")


def program_metrics(
    session: Session,
    library: Library,
    period: Period,
    *,
    team: str | None = None,
    today: date | None = None,
) -> ProgramMetrics:
    """Metrics for ``period`` with every failure-mode signal raised in it."""
    today = today or clock.today()
    # the longest query first, on the unit of work's twin when it has one (see gaps)
    gaps = start_gap_groups(session, period, team)
    metrics = compute_metrics(session, period, team=team, today=today)
    scenarios = {sid: loaded.scenario for sid, loaded in library.scenarios.items()}
    own = [
        (loaded.scenario, str(loaded.path))
        for loaded in library.scenarios.values()
        if not loaded.builtin
    ]
    metrics.signals = find_signals(
        session,
        period,
        program=library.program,
        scenarios=scenarios,
        own_scenarios=own,
        review_every=review_every(library),
        team=team,
        today=today,
        overdue=metrics.overdue_teams,
        gaps=gaps,
    )
    return metrics
