"""The web dashboard's program charts, as the viewer may see them.

Four pictures where people would rather look than read (issue 16, item 3): open findings
by severity at each month end, the time-to-close distribution, the detection pass rate
per ATT&CK tactic, and the schedule as a calendar. Every figure is counted by the
database under the viewer's team scope (:mod:`drillbook.domain.program.scope`), so a
chart never shows another team's findings, drills or plans. The SVG comes from
:mod:`drillbook.reports.charts`, which escapes every label (team names and scenario
titles are user input) and uses no script or style element, so the page's CSP holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.domain.account.access import Principal, can_see_team
from drillbook.domain.program.periods import quarter_of
from drillbook.domain.program.schedule import ScheduleItem
from drillbook.domain.program.trends import (
    month_ends,
    open_by_severity,
    pass_rate_by_tactic,
    time_to_close_buckets,
)
from drillbook.flows.program import default_period
from drillbook.flows.schedule import program_schedule
from drillbook.library.loader import Library
from drillbook.reports import charts

CALENDAR_QUARTERS = 2


@dataclass(frozen=True)
class Chart:
    slug: str
    title: str
    svg: str


def schedule_calendar(title: str, items: Sequence[ScheduleItem]) -> str:
    """The schedule as a calendar: one row per team, one column per month."""
    months = sorted({i.due.strftime("%Y-%m") for i in items})
    rows: dict[str, list[list[tuple[str, str]]]] = {}
    for item in sorted(items, key=lambda i: (i.team or "", i.due, i.kind)):
        cells = rows.setdefault(item.team or "all teams", [[] for _ in months])
        cells[months.index(item.due.strftime("%Y-%m"))].append((item.kind, item.status))
    return charts.calendar(title, months, rows)


def dashboard_charts(
    session: Session, library: Library, viewer: Principal, *, today: date | None = None
) -> list[Chart]:
    """The four charts for ``viewer`` over the last four quarters (the calendar: this
    quarter and the next)."""
    today = today or clock.today()
    period = default_period(today)
    points = month_ends(period, today)
    open_title = "Open findings by severity (month ends)"
    close_title = "Time to close (findings closed in the last four quarters)"
    tactic_title = "Detection pass rate per ATT&CK tactic (last four quarters)"
    tactics = pass_rate_by_tactic(session, period, viewer=viewer)
    schedule = program_schedule(
        session, library, quarters=CALENDAR_QUARTERS, start=quarter_of(today), today=today
    )
    mine = [i for i in schedule.items if can_see_team(viewer, i.team)]
    return [
        Chart(
            "open-findings",
            open_title,
            charts.line_chart(
                open_title,
                [p.strftime("%Y-%m") for p in points],
                open_by_severity(session, points, viewer=viewer),
            ),
        ),
        Chart(
            "time-to-close",
            close_title,
            charts.bar_chart(
                close_title,
                [
                    (label, float(n))
                    for label, n in time_to_close_buckets(session, period, viewer=viewer)
                ],
            ),
        ),
        Chart(
            "pass-rate-by-tactic",
            tactic_title,
            charts.bar_chart(
                tactic_title,
                [
                    (tactic, round(100 * fired / checked, 1) if checked else 0.0)
                    for tactic, checked, fired in tactics
                ],
                unit="%",
            ),
        ),
        Chart("schedule", "Schedule", schedule_calendar("Schedule", mine)),
    ]
