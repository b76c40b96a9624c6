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

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.domain.account.access import Principal, can_see_team
from drillbook.domain.program.periods import quarter_of
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
