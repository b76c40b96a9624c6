"""The program's quarterly numbers, aggregated by the database.

The second seed's step 7: "tabletop count per team, drill count, findings opened, findings
closed, MTTR for findings", and its point that the metric is not how many exercises ran
but how many findings closed and how fast. Every figure here is one ``GROUP BY`` query
(percentiles by window functions, see :mod:`drillbook.domain.program.sql`), so the cost
does not grow with the number of rows loaded into Python: there are none.

Definitions (docs/program.md repeats them):

* a *tabletop* is an exercise whose run date is in the period and that has started
  (not planned or briefed); a *drill* is a drill run started in the period;
* *opened* / *closed*: findings created / closed (``closed_at``) in the period;
* *closure rate*: of the findings opened in the period, the share closed before its end;
* *time to close*: days from opened to closed of the findings closed in the period,
  median and 90th percentile by nearest rank, per severity;
* *overdue*: findings still owed work whose SLA due date has passed, as of today;
* *detection*: per quarter, checks run, the share that fired (pass rate), time to alert
  and the time from alert to a human acknowledgement (seconds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal, literal_column, select, union_all
from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.domain.drill.models import DrillRun
from drillbook.domain.exercise.enums import ExerciseStatus
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.finding.enums import FindingStatus, Severity
from drillbook.domain.finding.models import Finding
from drillbook.domain.program.periods import Period
from drillbook.domain.program.sql import (
    PERCENTILES,
    days_between,
    nearest_rank,
    percentiles,
    plain,
    quarter_label,
    value_at_rank,
)
from drillbook.domain.scorecard.models import DetectionResultRow

NO_TEAM = "(no team)"
NOT_STARTED = (str(ExerciseStatus.PLANNED), str(ExerciseStatus.BRIEFED))


@dataclass
class TeamFigures:
    team: str
    tabletops: int = 0
    drills: int = 0
    findings_opened: int = 0
    findings_closed: int = 0
    closed_of_opened: int = 0
    overdue: int = 0

    @property
    def closure_rate(self) -> float | None:
        if not self.findings_opened:
            return None
        return round(self.closed_of_opened / self.findings_opened, 4)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "closure_rate": self.closure_rate}


@dataclass(frozen=True)
class Distribution:
    n: int
    median: float | None
    p90: float | None

    @classmethod
    def of(cls, row: Any, digits: int = 2) -> Distribution:
        if row is None:
            return cls(0, None, None)
        median = None if row.median is None else round(float(row.median), digits)
        p90 = None if row.p90 is None else round(float(row.p90), digits)
        return cls(int(row.n or 0), median, p90)


@dataclass(frozen=True)
class DetectionQuarter:
    quarter: str
    checks: int
    fired: int
    time_to_alert_seconds: Distribution
    acknowledgement_seconds: Distribution

    @property
    def pass_rate(self) -> float | None:
        return round(self.fired / self.checks, 4) if self.checks else None

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "pass_rate": self.pass_rate}


@dataclass
class ProgramMetrics:
    period: Period
    team: str | None
    as_of: date
    teams: list[TeamFigures]
    time_to_close_days: dict[str, Distribution]
    overdue_by_severity: dict[str, int]
    detection: list[DetectionQuarter]
    signals: list[Any] = field(default_factory=list)
    # per team label, the findings past their SLA (for the past_sla signal)
    overdue_teams: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def totals(self) -> TeamFigures:
        total = TeamFigures("all")
        for row in self.teams:
            for name in (
                "tabletops",
                "drills",
                "findings_opened",
                "findings_closed",
                "closed_of_opened",
                "overdue",
            ):
                setattr(total, name, getattr(total, name) + getattr(row, name))
        return total

    def as_dict(self) -> dict[str, Any]:
        return {
            "period": {
                "label": self.period.label,
                "start": self.period.start,
                "end": self.period.end,
            },
            "team": self.team,
            "as_of": self.as_of,
            "teams": [t.as_dict() for t in self.teams],
            "totals": self.totals.as_dict(),
            "time_to_close_days": {k: asdict(v) for k, v in self.time_to_close_days.items()},
            "overdue_by_severity": self.overdue_by_severity,
            "detection": [d.as_dict() for d in self.detection],
            "signals": [s.as_dict() for s in self.signals],
        }


def team_label(column: Any) -> ColumnElement[str]:
    """The team, or ``(no team)``; the literal is inlined so that PostgreSQL sees the same
    expression in SELECT and GROUP BY (bound parameters would differ)."""
    return func.coalesce(column, literal_column(f"'{NO_TEAM}'"))


def active_clause(
    today: date, *, compared: Callable[[Any], Any] = lambda column: column
) -> ColumnElement[bool]:
    """Still owed work (the SQL twin of ``Finding.is_active``)."""
    owed = [str(FindingStatus.OPEN), str(FindingStatus.IN_PROGRESS)]
    expires = compared(Finding.risk_expires)
    return (Finding.status.in_(owed)) | and_(
        Finding.status == str(FindingStatus.RISK_ACCEPTED),
        expires.is_not(None),
        expires < today,
    )


def _teams_filter(column: Any, team: str | None) -> list[ColumnElement[bool]]:
    return [] if team is None else [column == team]


@dataclass
class _FindingCounts:
    opened: int = 0
    closed_of_opened: int = 0
    closed: int = 0
    overdue: int = 0


def _figures(row: TeamFigures) -> tuple[int, ...]:
    return (
        row.tabletops,
        row.drills,
        row.findings_opened,
        row.findings_closed,
        row.closed_of_opened,
        row.overdue,
    )


def overdue_clause(
    today: date, *, compared: Callable[[Any], Any] = lambda column: column
) -> ColumnElement[bool]:
    """Still owed work and past the SLA due date, as of ``today`` (``compared``: how the
    date columns are compared, see :class:`~drillbook.domain.program.sql.plain`)."""
    due = compared(Finding.due_date)
    return and_(active_clause(today, compared=compared), due.is_not(None), due < today)


def _finding_counts(
    session: Session, period: Period, team: str | None, today: date
) -> dict[tuple[str, str], _FindingCounts]:
    """Per (team, severity): opened and closed in the period, opened and closed by its
    end, overdue today. One pass over the findings, grouped by the team column as stored:
    grouping by its label (``(no team)`` for none) made SQLite sort every row instead of
    reading the team-and-severity index in order; labels are merged here."""
    start, end = period.start_at, period.end_at
    created, closed_at = plain(Finding.created_at), plain(Finding.closed_at)
    opened = and_(created >= start, created < end)
    closed_by_end = and_(closed_at.is_not(None), closed_at < end)
    closed = and_(closed_at >= start, closed_at < end)
    overdue = overdue_clause(today, compared=plain)

    def count(condition: ColumnElement[bool]) -> Any:
        return func.sum(case((condition, 1), else_=0))

    rows = session.execute(
        select(
            Finding.team,
            Finding.severity,
            count(opened),
            count(and_(opened, closed_by_end)),
            count(closed),
            count(overdue),
        )
        .where(*_teams_filter(Finding.team, team))
        .group_by(Finding.team, Finding.severity)
    )
    counts: dict[tuple[str, str], _FindingCounts] = {}
    for raw_team, severity, *values in rows:
        figures = counts.setdefault((_label(raw_team), severity), _FindingCounts())
        figures.opened += int(values[0] or 0)
        figures.closed_of_opened += int(values[1] or 0)
        figures.closed += int(values[2] or 0)
        figures.overdue += int(values[3] or 0)
    return counts


def _overdue_teams(findings: dict[tuple[str, str], _FindingCounts]) -> dict[str, int]:
    overdue: dict[str, int] = {}
    for (name, _severity), counts in findings.items():
        if counts.overdue:
            overdue[name] = overdue.get(name, 0) + counts.overdue
    return overdue


def _label(team: str | None) -> str:
    return NO_TEAM if team is None else team


def overdue_by_team(session: Session, today: date, team: str | None = None) -> dict[str, int]:
    """Per team label, the findings past their SLA today."""
    found: dict[str, int] = {}
    for raw_team, count in session.execute(
        select(Finding.team, func.count())
        .where(overdue_clause(today), *_teams_filter(Finding.team, team))
        .group_by(Finding.team)
    ):
        found[_label(raw_team)] = found.get(_label(raw_team), 0) + int(count)
    return found


def _counts(
    session: Session,
    period: Period,
    team: str | None,
    findings: dict[tuple[str, str], _FindingCounts],
) -> list[TeamFigures]:
    rows: dict[str, TeamFigures] = {}

    def row(name: str) -> TeamFigures:
        return rows.setdefault(name, TeamFigures(name))

    start, end = period.start_at, period.end_at
    tabletops = session.execute(
        select(team_label(Exercise.team), func.count())
        .where(
            Exercise.run_date >= period.start,
            Exercise.run_date < period.end,
            Exercise.status.not_in(NOT_STARTED),
            *_teams_filter(Exercise.team, team),
        )
        .group_by(team_label(Exercise.team))
    )
    for name, count in tabletops:
        row(name).tabletops = int(count)
    drills = session.execute(
        select(team_label(DrillRun.team), func.count())
        .where(
            DrillRun.started_at >= start,
            DrillRun.started_at < end,
            *_teams_filter(DrillRun.team, team),
        )
        .group_by(team_label(DrillRun.team))
    )
    for name, count in drills:
        row(name).drills = int(count)
    for (name, _severity), counts in findings.items():
        figures = row(name)
        figures.findings_opened += counts.opened
        figures.closed_of_opened += counts.closed_of_opened
        figures.findings_closed += counts.closed
        figures.overdue += counts.overdue
    # a team with findings only outside the period (and none overdue) has no row, as
    # when each figure was its own query
    for name in [n for n, r in rows.items() if not any(_figures(r))]:
        del rows[name]
    return sorted(rows.values(), key=lambda r: (r.team == NO_TEAM, r.team))


def _time_to_close(
    session: Session,
    period: Period,
    team: str | None,
    findings: dict[tuple[str, str], _FindingCounts],
) -> dict[str, Distribution]:
    """Median and p90 of the days to close per severity. The counts are known (the closed
    in the period, per severity, from :func:`_finding_counts`), so each percentile is the
    value at a known rank: one ``ORDER BY ... LIMIT 1 OFFSET`` per figure, all in one
    statement, where numbering every row by a window took twice as long on SQLite."""
    closed: dict[str, int] = {}
    for (_team, severity), counts in findings.items():
        closed[severity] = closed.get(severity, 0) + counts.closed
    days = days_between(Finding.created_at, Finding.closed_at)
    picks = []
    for severity, n in closed.items():
        if not n:
            continue
        values = select(days.label("value")).where(
            Finding.severity == severity,
            Finding.closed_at >= period.start_at,
            Finding.closed_at < period.end_at,
            *_teams_filter(Finding.team, team),
        )
        for name, percent in PERCENTILES:
            pick = value_at_rank(values, days, n, nearest_rank(n, percent)).subquery()
            picks.append(select(literal(severity), literal(name), pick.c.value))
    found: dict[str, dict[str, float]] = {}
    if picks:
        for severity, name, value in session.execute(union_all(*picks)):
            found.setdefault(severity, {})[name] = round(float(value), 2)
    return {
        str(s): Distribution(closed[s], found[s]["median"], found[s]["p90"])
        if closed.get(s)
        else Distribution(0, None, None)
        for s in _severities()
    }


def _severities() -> Sequence[Severity]:
    return sorted(Severity, key=lambda s: -s.rank)


def _overdue_by_severity(findings: dict[tuple[str, str], _FindingCounts]) -> dict[str, int]:
    overdue: dict[str, int] = {}
    for (_team, severity), counts in findings.items():
        overdue[severity] = overdue.get(severity, 0) + counts.overdue
    return {str(s): overdue.get(str(s), 0) for s in _severities()}


def _detection(session: Session, period: Period, team: str | None) -> list[DetectionQuarter]:
    in_period = [
        DetectionResultRow.checked_at >= period.start_at,
        DetectionResultRow.checked_at < period.end_at,
    ]
    base = select(DetectionResultRow).where(*in_period)
    if team is not None:
        runs = select(DrillRun.id).where(DrillRun.team == team)
        base = base.where(DetectionResultRow.drill_run_id.in_(runs))
    rows = base.subquery()
    quarter = quarter_label(rows.c.checked_at).label("quarter")
    counts = session.execute(
        select(quarter, func.count(), func.sum(case((rows.c.fired.is_(True), 1), else_=0)))
        .group_by(quarter)
        .order_by(quarter)
    ).all()
    alert = (
        select(
            quarter_label(rows.c.checked_at).label("quarter"),
            rows.c.time_to_alert_seconds.label("value"),
        )
        .where(rows.c.time_to_alert_seconds.is_not(None))
        .subquery()
    )
    alerts = {
        r.quarter: Distribution.of(r, 1) for r in session.execute(percentiles(alert, "quarter"))
    }
    ack = (
        select(
            quarter_label(rows.c.checked_at).label("quarter"),
            (days_between(rows.c.first_alert_at, rows.c.acknowledged_at) * 86400.0).label("value"),
        )
        .where(rows.c.first_alert_at.is_not(None), rows.c.acknowledged_at.is_not(None))
        .subquery()
    )
    acks = {r.quarter: Distribution.of(r, 1) for r in session.execute(percentiles(ack, "quarter"))}
    empty = Distribution(0, None, None)
    return [
        DetectionQuarter(
            str(label),
            int(count),
            int(fired or 0),
            alerts.get(label, empty),
            acks.get(label, empty),
        )
        for label, count, fired in counts
    ]


def compute_metrics(
    session: Session, period: Period, *, team: str | None = None, today: date | None = None
) -> ProgramMetrics:
    """Every figure for ``period`` (and ``team``); signals are added by the caller
    (:func:`drillbook.domain.program.signals.find_signals`)."""
    today = today or clock.today()
    findings = _finding_counts(session, period, team, today)
    return ProgramMetrics(
        period=period,
        team=team,
        as_of=today,
        teams=_counts(session, period, team, findings),
        time_to_close_days=_time_to_close(session, period, team, findings),
        overdue_by_severity=_overdue_by_severity(findings),
        detection=_detection(session, period, team),
        overdue_teams=_overdue_teams(findings),
    )
