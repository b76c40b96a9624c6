"""The program's figures, counted by the database, for the dashboard, the evidence pack
and the exercise report.

The dashboard and the pack show the same four (issue 16, item 3): open findings by
severity at each month start, the time-to-close distribution, the detection pass rate
per ATT&CK tactic, and the schedule as a calendar; only the scope differs (the viewer's
teams over the last four quarters; the pack's ``--since``/``--team``). An exercise report
shows three that make sense for one exercise: its own findings by severity, and its
team's open findings and detection pass rate over the year around it. Every number comes
from :mod:`drillbook.domain.program.trends` (SQL aggregates), never from the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy.orm import Session

from drillbook.domain.account.access import Principal
from drillbook.domain.finding.models import Finding
from drillbook.domain.program.periods import Period
from drillbook.domain.program.schedule import ScheduleItem
from drillbook.domain.program.trends import (
    month_ends,
    open_by_severity,
    pass_rate_by_tactic,
    time_to_close_buckets,
)
from drillbook.domain.scenario.enums import Severity
from drillbook.reports.figures import Bar, Bars, Calendar, Slot, Spec, Trend

SEVERITIES = tuple(str(s) for s in sorted(Severity, key=lambda s: -s.rank))


def _whose(team: str | None) -> str:
    return f"team {team}" if team else "all teams"


def open_findings_trend(
    session: Session,
    period: Period,
    today: date,
    *,
    team: str | None = None,
    viewer: Principal | None = None,
    title: str = "Open findings by severity (month starts)",
    intro: str = "",
) -> Trend:
    points = month_ends(period, today)
    series = open_by_severity(session, points, team, viewer=viewer)
    return Trend(
        "open-findings",
        title,
        tuple(points),
        {name: tuple(values) for name, values in series.items()},
        "open findings",
        intro,
    )


def time_to_close(
    session: Session,
    period: Period,
    *,
    team: str | None = None,
    viewer: Principal | None = None,
    title: str = "Time to close",
) -> Bars:
    buckets = time_to_close_buckets(session, period, team, viewer=viewer)
    total = sum(n for _, n in buckets)
    return Bars(
        "time-to-close",
        title,
        tuple(Bar(label, float(n)) for label, n in buckets),
        "Days to close",
        "Findings",
        intro=f"{total} finding{'s' if total != 1 else ''} closed from {period.start} "
        f"to {period.end - timedelta(days=1)}, by days from opened to closed:",
    )


def pass_rate(
    session: Session,
    period: Period,
    *,
    team: str | None = None,
    viewer: Principal | None = None,
    title: str = "Detection pass rate per ATT&CK tactic",
    intro: str = "",
) -> Bars:
    rows = pass_rate_by_tactic(session, period, team, viewer=viewer)
    return Bars(
        "pass-rate-by-tactic",
        title,
        tuple(
            Bar(
                tactic,
                round(100 * fired / checked, 1) if checked else 0.0,
                f"{fired} of {checked} check{'s' if checked != 1 else ''} fired",
            )
            for tactic, checked, fired in rows
        ),
        "ATT&CK tactic",
        "Pass rate",
        unit="%",
        intro=intro,
        empty="No detection was checked in this period.",
    )


def schedule_calendar(title: str, items: Sequence[ScheduleItem]) -> Calendar:
    return Calendar(
        "schedule",
        title,
        tuple(
            Slot(item.team or "all teams", item.due.strftime("%Y-%m"), item.kind, item.status)
            for item in items
        ),
    )


def program_figures(
    session: Session,
    period: Period,
    today: date,
    schedule: Sequence[ScheduleItem],
    *,
    team: str | None = None,
    viewer: Principal | None = None,
    span: str = "",
    schedule_title: str = "Schedule",
) -> list[Spec]:
    """The four program figures over ``period`` (``span`` words it in the titles)."""
    suffix = f" ({span})" if span else ""
    whose = _whose(team) if viewer is None else "as far as you can see"
    return [
        open_findings_trend(
            session,
            period,
            today,
            team=team,
            viewer=viewer,
            intro=f"Findings open at the start of each month, {whose}.",
        ),
        time_to_close(
            session,
            period,
            team=team,
            viewer=viewer,
            title=f"Time to close (findings closed {span or 'in the period'})",
        ),
        pass_rate(
            session,
            period,
            team=team,
            viewer=viewer,
            title=f"Detection pass rate per ATT&CK tactic{suffix}",
        ),
        schedule_calendar(schedule_title, schedule),
    ]


def exercise_window(run_date: date, today: date) -> Period:
    """The year around an exercise: from the month a year before it up to the report's
    date, and no more than a year after it (a copy made later shows the same window)."""
    start = date(run_date.year - 1, run_date.month, 1)
    end = min(today + timedelta(days=1), date(run_date.year + 1, run_date.month, 1))
    end = max(end, start + timedelta(days=1))
    return Period(start, end, f"{start}..{end - timedelta(days=1)}")


def findings_by_severity(fixes: Sequence[Finding]) -> Bars | None:
    """This exercise's findings per severity, with how many are still open."""
    if not fixes:
        return None
    names = list(SEVERITIES) + sorted({f.severity for f in fixes} - set(SEVERITIES))
    bars = []
    for name in names:
        mine = [f for f in fixes if f.severity == name]
        still_open = sum(1 for f in mine if f.closed_at is None)
        note = f"{still_open} open, {len(mine) - still_open} closed" if mine else ""
        bars.append(Bar(name, float(len(mine)), note))
    total = len(fixes)
    return Bars(
        "findings-by-severity",
        "Findings from this exercise by severity",
        tuple(bars),
        "Severity",
        "Findings",
        intro=f"This exercise recorded {total} finding{'s' if total != 1 else ''}:",
    )


def exercise_figures(
    session: Session, team: str | None, run_date: date, today: date
) -> tuple[list[Spec], str]:
    """The team's open findings and detection pass rate over the year around an exercise,
    and a sentence saying whose and when."""
    window = exercise_window(run_date, today)
    whose = _whose(team)
    last = window.end - timedelta(days=1)
    figures: list[Spec] = [
        open_findings_trend(
            session,
            window,
            today,
            team=team,
            title=f"Open findings of {whose} by severity",
            intro=f"Findings of {whose} open at the start of each month.",
        )
    ]
    tactics = pass_rate(
        session,
        window,
        team=team,
        title=f"Detection pass rate per ATT&CK tactic, drills of {whose}",
        intro=f"Detection checks in drills of {whose}, by ATT&CK tactic:",
    )
    scope = f"The program around this exercise: {whose}, from {window.start} to {last}."
    if tactics.bars:
        figures.append(tactics)
    else:
        scope += f" No drill of {whose} was checked in that time, so no pass rate is shown."
    return figures, scope
