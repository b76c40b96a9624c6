"""Findings grouped by gap in one scan, for both the theatre and the repeat signals.

Theatre groups a team's findings by (exercise team, scenario, gap) and counts the runs;
repeats group them by (finding team, gap) and count the origins (a scenario, else the
drill step or the finding itself). Each was its own ``GROUP BY`` over every finding, and
sorting a hundred thousand rows twice was most of ``drillbook metrics``. Both are
coarsenings of one finer grouping, by every column either needs, which gives a few
thousand rows (a team runs a scenario many times, the same gaps come back); merging those
into the two signals' groups is a dictionary pass here.

The groups are put in order here (theatre by team label, scenario and gap; repeats by
team label and gap), by code point: SQLite's order, and PostgreSQL's under a C collation,
where each signal's own query sorted them before; the same order on both databases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from drillbook.domain.exercise.models import Exercise
from drillbook.domain.finding.enums import Capability
from drillbook.domain.finding.models import Finding
from drillbook.domain.program.metrics import NO_TEAM, NOT_STARTED
from drillbook.domain.program.periods import Period
from drillbook.domain.program.sql import bytewise, joined_text
from drillbook.storage.twin import rows_beside


def gap_key() -> ColumnElement[str]:
    """What makes two findings "the same gap": the detection rule and technique for a
    drill's finding, else the response capability (``other`` and blank do not count)."""
    detection = (
        Finding.rule
        + literal_column("' @ '")
        + func.coalesce(Finding.technique, literal_column("'?'"))
    )
    return func.coalesce(detection, Finding.capability)


def gap_present() -> ColumnElement[bool]:
    return (Finding.rule.is_not(None)) | and_(
        Finding.capability.is_not(None), Finding.capability != str(Capability.OTHER)
    )


@dataclass
class TheatreGroup:
    """A team's runs of one scenario that recorded one gap (exercise ids as text, the
    last run date as the database gives it until :func:`gap_groups` returns)."""

    team: str
    scenario_id: str
    gap: str
    exercises: set[str] = field(default_factory=set)
    findings: list[str] = field(default_factory=list)
    last: Any = None


@dataclass
class RepeatGroup:
    """A team's findings of one gap, with the distinct runs (origins) they came from."""

    team: str
    gap: str
    origins: set[str] = field(default_factory=set)
    findings: list[str] = field(default_factory=list)
    # the latest finding opened on or after the period's start, and none after its end
    reaches_period: bool = False
    within_period: bool = True


def _started() -> ColumnElement[int]:
    # literals inlined: PostgreSQL must see the same expression in SELECT and GROUP BY
    not_started: list[ColumnElement[str]] = [
        literal_column(f"'{status}'") for status in NOT_STARTED
    ]
    return case(
        (Exercise.status.not_in(not_started), literal_column("1")),
        else_=literal_column("0"),
    )


def _fine_groups(period: Period, team: str | None) -> Any:
    started = _started()
    # a finding of no exercise is its own origin: its drill step (source_ref), else itself
    own_origin = case(
        (Exercise.id.is_(None), func.coalesce(Finding.source_ref, Finding.id)),
    )
    keys = (
        bytewise(Exercise.team),
        bytewise(Exercise.scenario_id),
        bytewise(gap_key()),
        bytewise(Finding.team),
        started,
        bytewise(own_origin),
    )
    latest = func.max(Finding.created_at)
    query = (
        select(
            *keys,
            # the run date as stored (compared here, made a date once per group)
            type_coerce(func.max(Exercise.run_date), NullType()),
            # the period test of the latest finding, as the database compares times
            latest >= period.start_at,
            latest < period.end_at,
            joined_text(Exercise.id),
            joined_text(Finding.id),
        )
        .outerjoin(Exercise, Exercise.id == Finding.exercise_id)
        .where(gap_present())
        .group_by(*keys)
    )
    if team is not None:
        query = query.where(or_(Exercise.team == team, Finding.team == team))
    return query


def _label(team: str | None) -> str:
    return NO_TEAM if team is None else team


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


GapGroups = tuple[list["TheatreGroup"], list["RepeatGroup"]]


def start_gap_groups(
    session: Session, period: Period, team: str | None = None
) -> Callable[[], GapGroups]:
    """Begin :func:`gap_groups`: its query (the longest of the metrics) runs on the unit
    of work's twin, when it has one, while the caller reads the other figures; the
    function returned waits for it and gives the groups."""
    # a few thousand groups of 100,000 findings: hashed, not sorted (storage.planner)
    pending = rows_beside(session, _fine_groups(period, team), hash_grouping=True)
    return lambda: _merge(pending(), period, team)


def gap_groups(session: Session, period: Period, team: str | None = None) -> GapGroups:
    """The theatre groups (started runs only) run twice or more with the last run in
    ``period``, and the repeat groups from two origins or more with the latest finding
    opened in it; each in its signal's order."""
    return start_gap_groups(session, period, team)()


def _merge(rows: Iterable[Any], period: Period, team: str | None) -> GapGroups:
    theatre: dict[tuple[str, str, str], TheatreGroup] = {}
    repeats: dict[tuple[str, str], RepeatGroup] = {}
    for ex_team, scenario, gap, f_team, started, origin, last, after, before, runs, ids in rows:
        findings = ids.split(",")
        if scenario is not None and started and (team is None or ex_team == team):
            key = (_label(ex_team), scenario, gap)
            run = theatre.get(key)
            if run is None:
                run = theatre[key] = TheatreGroup(*key)
            run.exercises.update(runs.split(","))
            run.findings.extend(findings)
            if run.last is None or last > run.last:
                run.last = last
        if team is None or f_team == team:
            key2 = (_label(f_team), gap)
            found = repeats.get(key2)
            if found is None:
                found = repeats[key2] = RepeatGroup(*key2)
            found.origins.add(origin if scenario is None else f"scenario:{scenario}")
            found.findings.extend(findings)
            found.reaches_period = found.reaches_period or bool(after)
            found.within_period = found.within_period and bool(before)
    ran = []
    for key in sorted(theatre):
        run = theatre[key]
        run.last = _day(run.last)
        if len(run.exercises) >= 2 and period.start <= run.last < period.end:
            ran.append(run)
    came_back = [
        repeats[key]
        for key in sorted(repeats)
        if len(repeats[key].origins) >= 2
        and repeats[key].reaches_period
        and repeats[key].within_period
    ]
    return ran, came_back
