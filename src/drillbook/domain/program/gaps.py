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

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, literal_column, or_, select
from sqlalchemy.orm import Session

from drillbook.domain.exercise.models import Exercise
from drillbook.domain.finding.enums import Capability
from drillbook.domain.finding.models import Finding
from drillbook.domain.program.metrics import NO_TEAM, NOT_STARTED
from drillbook.domain.program.periods import Period
from drillbook.domain.program.sql import joined_text


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
    """A team's runs of one scenario that recorded one gap."""

    team: str
    scenario_id: str
    gap: str
    exercises: set[int] = field(default_factory=set)
    findings: list[str] = field(default_factory=list)
    last: date | None = None


@dataclass
class RepeatGroup:
    """A team's findings of one gap, with the distinct runs (origins) they came from."""

    team: str
    gap: str
    origins: set[str] = field(default_factory=set)
    findings: list[str] = field(default_factory=list)
    latest: datetime | None = None


def _started() -> ColumnElement[int]:
    # literals inlined: PostgreSQL must see the same expression in SELECT and GROUP BY
    not_started: list[ColumnElement[str]] = [
        literal_column(f"'{status}'") for status in NOT_STARTED
    ]
    return case(
        (Exercise.status.not_in(not_started), literal_column("1")),
        else_=literal_column("0"),
    )


def _fine_groups(team: str | None) -> Any:
    gap = gap_key()
    started = _started()
    # a finding of no exercise is its own origin: its drill step (source_ref), else itself
    own_origin = case(
        (Exercise.id.is_(None), func.coalesce(Finding.source_ref, Finding.id)),
    )
    keys = (Exercise.team, Exercise.scenario_id, gap, Finding.team, started, own_origin)
    query = (
        select(
            Exercise.team.label("exercise_team"),
            Exercise.scenario_id.label("scenario_id"),
            gap.label("gap"),
            Finding.team.label("finding_team"),
            started.label("started"),
            own_origin.label("own_origin"),
            func.max(Exercise.run_date).label("last"),
            func.max(Finding.created_at).label("latest"),
            joined_text(Exercise.id).label("exercises"),
            joined_text(Finding.id).label("findings"),
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


def _ids(joined: str | None) -> list[str]:
    return joined.split(",") if joined else []


def gap_groups(
    session: Session, team: str | None = None
) -> tuple[list[TheatreGroup], list[RepeatGroup]]:
    """Every theatre group (started runs only) and every repeat group, each in its
    signal's order, before either signal's thresholds are applied."""
    theatre: dict[tuple[str, str, str], TheatreGroup] = {}
    repeats: dict[tuple[str, str], RepeatGroup] = {}
    for row in session.execute(_fine_groups(team)):
        findings = _ids(row.findings)
        if (
            row.scenario_id is not None
            and row.started
            and (team is None or row.exercise_team == team)
        ):
            key = (_label(row.exercise_team), row.scenario_id, row.gap)
            run = theatre.get(key)
            if run is None:
                run = theatre[key] = TheatreGroup(*key)
            run.exercises.update(map(int, _ids(row.exercises)))
            run.findings.extend(findings)
            if run.last is None or row.last > run.last:
                run.last = row.last
        if team is None or row.finding_team == team:
            key2 = (_label(row.finding_team), row.gap)
            found = repeats.get(key2)
            if found is None:
                found = repeats[key2] = RepeatGroup(*key2)
            found.origins.add(
                row.own_origin if row.scenario_id is None else f"scenario:{row.scenario_id}"
            )
            found.findings.extend(findings)
            if found.latest is None or row.latest > found.latest:
                found.latest = row.latest
    return [theatre[k] for k in sorted(theatre)], [repeats[k] for k in sorted(repeats)]


def theatre_groups(groups: Iterable[TheatreGroup], period: Period) -> list[TheatreGroup]:
    """Run twice or more, the last run in ``period``."""
    return [
        g
        for g in groups
        if len(g.exercises) >= 2 and g.last is not None and period.start <= g.last < period.end
    ]


def repeat_groups(groups: Iterable[RepeatGroup], period: Period) -> list[RepeatGroup]:
    """From two origins or more, the latest finding opened in ``period``."""
    return [
        g
        for g in groups
        if len(g.origins) >= 2
        and g.latest is not None
        and period.start_at <= g.latest < period.end_at
    ]
