"""The web dashboard's program charts, as the viewer may see them.

Four pictures where people would rather look than read (issue 16, item 3): open findings
by severity at each month start, the time-to-close distribution, the detection pass rate
per ATT&CK tactic, and the schedule as a calendar, made by
:func:`drillbook.flows.program_figures.program_figures` (the evidence pack draws the same
four). Every figure is counted by the database under the viewer's team scope
(:mod:`drillbook.domain.program.scope`), so a chart never shows another team's findings,
drills or plans. The SVG comes from :mod:`drillbook.reports.charts`, which escapes every
label (team names and tactic names are user input) and uses no script or style element,
so the page's CSP holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.domain.account.access import Principal, can_see_team
from drillbook.domain.drill.models import DrillRun
from drillbook.domain.exercise.enums import ExerciseStatus
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.finding.enums import Severity
from drillbook.domain.finding.models import Finding
from drillbook.domain.program.periods import quarter_of
from drillbook.domain.program.scope import team_clause
from drillbook.flows.program import default_period
from drillbook.flows.program_figures import program_figures
from drillbook.flows.schedule import program_schedule
from drillbook.library.loader import Library
from drillbook.reports.figures import figure

CALENDAR_QUARTERS = 2


@dataclass(frozen=True)
class Chart:
    slug: str
    title: str
    svg: str
    caption: str = ""


def dashboard_charts(
    session: Session, library: Library, viewer: Principal, *, today: date | None = None
) -> list[Chart]:
    """The four charts for ``viewer`` over the last four quarters (the calendar: this
    quarter and the next)."""
    today = today or clock.today()
    period = default_period(today)
    schedule = program_schedule(
        session, library, quarters=CALENDAR_QUARTERS, start=quarter_of(today), today=today
    )
    mine = [i for i in schedule.items if can_see_team(viewer, i.team)]
    specs = program_figures(
        session, period, today, mine, viewer=viewer, span="in the last four quarters"
    )
    return [Chart(b.slug, b.title, b.svg, b.caption) for b in map(figure, specs)]


@dataclass(frozen=True)
class DashboardCounts:
    """The tiles at the top of the dashboard, as ``viewer`` may see them."""

    exercises: int
    drills: int
    findings: dict[str, int]  # open, overdue (past their SLA), critical (open)
    live: list[dict[str, Any]] = field(default_factory=list)  # running or paused runs


def dashboard_counts(
    session: Session, viewer: Principal, *, today: date | None = None
) -> DashboardCounts:
    """Counted by the database under the viewer's team scope: the page used to load every
    exercise and every open finding as objects to count them (5 s at 100,000 findings).

    The same definitions as the objects': a finding is open when
    :func:`~drillbook.domain.finding.service.findings_query` ``(active=True)`` lists it
    (owed work, or a risk acceptance that has expired), past its SLA when it is open with
    a due date before today (``Finding.overdue``); live runs are running or paused."""
    from drillbook.domain.finding.service import _active_clause

    today = today or clock.today()

    def scoped(query: Any, column: Any) -> Any:
        clause = team_clause(column, viewer=viewer)
        return query if clause is None else query.where(clause)

    exercises = session.scalar(scoped(select(func.count()).select_from(Exercise), Exercise.team))
    drills = session.scalar(scoped(select(func.count()).select_from(DrillRun), DrillRun.team))
    # within the open ones (the WHERE below): Finding.overdue
    past_sla = and_(Finding.due_date.is_not(None), Finding.due_date < today)
    critical = Finding.severity == str(Severity.CRITICAL)
    counts = session.execute(
        scoped(
            select(
                func.count(),
                func.coalesce(func.sum(case((past_sla, 1), else_=0)), 0),
                func.coalesce(func.sum(case((critical, 1), else_=0)), 0),
            ).where(_active_clause(today)),
            Finding.team,
        )
    ).one()
    live_runs = session.scalars(
        scoped(
            select(Exercise)
            .where(Exercise.status.in_([str(ExerciseStatus.RUNNING), str(ExerciseStatus.PAUSED)]))
            .order_by(Exercise.id),
            Exercise.team,
        )
    )
    return DashboardCounts(
        int(exercises or 0),
        int(drills or 0),
        {"open": int(counts[0]), "overdue": int(counts[1]), "critical": int(counts[2])},
        [{"id": e.id, "label": e.label, "title": e.title} for e in live_runs],
    )
