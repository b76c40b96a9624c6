"""Lint's repeat check over the store, without splitting every description into words.

:func:`~drillbook.domain.finding.repeats._grouped` walks a scenario's findings in order
of creation: each joins the first group whose first finding is worded like it (Jaccard
>= SIMILARITY), else its capability's group, else starts a group. At 100,000 findings
reading them all and splitting each description took a second. Here the grouping is the
same, computed from the little that decides it:

* a group starts only at a capability's first finding (or a later one, when every
  earlier one joined a group by its wording) or at a finding with no capability; these
  *pioneers* are few, read in order (the database gives each capability's first by its
  earliest time), and grouped exactly as ``_grouped`` does;
* every other finding of a capability joins that capability's group unless it is worded
  like the first of an earlier group: the descriptions worded like those few firsts are
  found in one pass over each scenario's text (:mod:`drillbook.domain.finding.wording`);
* a group's runs are the distinct exercises of its capability (counted by the database)
  corrected for the few findings that went elsewhere or came in.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from drillbook.clip import clip
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.ranking import SIMILARITY, _words
from drillbook.domain.finding.repeats import (
    FindingRepeat,
    FindingRepeatSource,
    _in_creation_order,
    _moment,
    _runs_query,
)
from drillbook.domain.finding.sql import joined_lines, text_line
from drillbook.domain.finding.wording import LINE, Texts
from drillbook.storage.bulk import bulk_read

CHUNK = 2000  # values per IN list
SAMPLE_CHARS = 400_000  # characters of text that estimate how common each word is

Row = Any  # a _runs_query row: id, description, capability, created, exercise, scenario, number


@dataclass
class _Group:
    first: Row
    words: frozenset[str]
    capability: str | None
    members: list[Row] = field(default_factory=list)  # those not counted by the database


@dataclass
class _Scenario:
    """One scenario's groups, built from its pioneers."""

    id: str
    groups: list[_Group] = field(default_factory=list)
    first_with: dict[str, int] = field(default_factory=dict)
    pioneers: set[int] = field(default_factory=set)  # finding numbers
    moved: dict[str, list[Row]] = field(default_factory=dict)  # capability -> left its group

    def place(self, row: Row) -> bool:
        """Group a pioneer as ``_grouped`` does (it has no capability group to join yet);
        True when it joined a group by its wording."""
        self.pioneers.add(row[6])
        words = _words(row[1])
        if words:
            for group in self.groups:
                if _similar(words, group.words):
                    group.members.append(row)
                    if row[2]:
                        self.moved.setdefault(row[2], []).append(row)
                    return True
        self.groups.append(_Group(row, words, row[2] or None, [row]))
        if row[2]:
            self.first_with.setdefault(row[2], len(self.groups) - 1)
        return False


def _similar(words: frozenset[str], other: frozenset[str]) -> bool:
    if not other or words.isdisjoint(other):
        return False
    shared = len(words & other)
    return shared / (len(words) + len(other) - shared) >= SIMILARITY


def stored_repeated_gaps(session: Session) -> dict[str, list[FindingRepeat]]:
    """:func:`~drillbook.domain.finding.repeats.every_repeated_gap`, read as above."""
    named = and_(Finding.capability.is_not(None), Finding.capability != "")
    stats = _capability_stats(session, named)
    pending: dict[str, list[tuple[Any, int, Row]]] = {}
    for row in _firsts(session, stats):
        pending.setdefault(row[5], []).append((row[3], row[6], row))
    for row in session.connection().execute(_runs_query().where(~named)):
        pending.setdefault(row[5], []).append((row[3], row[6], row))
    scenarios = {sid: _pioneer_groups(session, sid, heap) for sid, heap in pending.items()}
    _redirect(session, scenarios)
    return _repeats(session, scenarios, stats)


def _capability_stats(
    session: Session, named: ColumnElement[bool]
) -> dict[tuple[str, str], tuple[int, Any]]:
    """Per (scenario, capability): how many exercises recorded it, and when first. Each
    exercise's first time is read from the (capability, exercise, time) index first (the
    database then groups 70,000 rows by scenario, not 100,000)."""
    per_exercise = (
        select(
            Finding.capability,
            Finding.exercise_id,
            func.min(type_coerce(Finding.created_at, NullType())).label("first"),
        )
        .where(named, Finding.exercise_id.is_not(None))
        .group_by(Finding.capability, Finding.exercise_id)
        .subquery()
    )
    query = (
        select(
            Exercise.scenario_id,
            per_exercise.c.capability,
            func.count(),
            func.min(per_exercise.c.first),
        )
        .join(Exercise, Exercise.id == per_exercise.c.exercise_id)
        .group_by(Exercise.scenario_id, per_exercise.c.capability)
    )
    return {
        (scenario, capability): (int(runs), first)
        for scenario, capability, runs, first in session.connection().execute(query)
    }


def _firsts(session: Session, stats: dict[tuple[str, str], tuple[int, Any]]) -> list[Row]:
    """Each (scenario, capability)'s first finding: of those at its earliest time, the
    lowest number."""
    wanted = {key: first for key, (_, first) in stats.items()}
    best: dict[tuple[str, str], Row] = {}
    created = type_coerce(Finding.created_at, NullType())
    for chunk in _chunks(sorted(set(wanted.values()))):
        for row in session.connection().execute(_runs_query().where(created.in_(chunk))):
            key = (row[5], row[2])
            earlier = key not in best or row[6] < best[key][6]
            if key in wanted and wanted[key] == row[3] and earlier:
                best[key] = row
    return list(best.values())


def _pioneer_groups(session: Session, scenario_id: str, heap: list[Any]) -> _Scenario:
    """Group a scenario's pioneers in order of creation; a capability's next finding
    becomes one when its first joined a group by its wording."""
    scenario = _Scenario(scenario_id)
    heapq.heapify(heap)
    ordered: dict[str, list[Row]] = {}
    while heap:
        _, _, row = heapq.heappop(heap)
        if scenario.place(row) and row[2]:
            if row[2] not in ordered:
                query = _runs_query().where(
                    Exercise.scenario_id == scenario_id, Finding.capability == row[2]
                )
                ordered[row[2]] = _in_creation_order(session.connection().execute(query).all())
            rows = ordered[row[2]]
            after = next(i for i, other in enumerate(rows) if other[6] == row[6]) + 1
            if after < len(rows):
                heapq.heappush(heap, (rows[after][3], rows[after][6], rows[after]))
    return scenario


def _redirect(session: Session, scenarios: dict[str, _Scenario]) -> None:
    """Move each capability's later finding that is worded like the first of a group
    created before its capability's into the first such group."""
    asking = {
        sid: [i for i, g in enumerate(s.groups) if g.words and i < max(s.first_with.values())]
        for sid, s in scenarios.items()
        if s.first_with
    }
    asking = {sid: groups for sid, groups in asking.items() if groups}
    if not asking:
        return
    texts = _scenario_texts(session, set(asking))
    frequency = _sample_frequency(texts)
    similar: dict[int, list[tuple[str, int]]] = {}  # number -> (scenario, group)
    for sid, indexes in asking.items():
        if sid not in texts:
            continue
        scenario = scenarios[sid]
        found = texts[sid].similar([scenario.groups[i].words for i in indexes], frequency)
        for index, numbers in zip(indexes, found, strict=True):
            for number in map(int, numbers):
                if number not in scenario.pioneers:
                    similar.setdefault(number, []).append((sid, index))
    for chunk in _chunks(sorted(similar)):
        for row in session.connection().execute(_runs_query().where(Finding.number.in_(chunk))):
            scenario = scenarios[row[5]]
            own = scenario.first_with.get(row[2] or "")
            if own is None:
                continue
            earlier = [i for sid, i in similar[row[6]] if sid == row[5] and i < own]
            if earlier:
                scenario.groups[min(earlier)].members.append(row)
                scenario.moved.setdefault(str(row[2]), []).append(row)


def _scenario_texts(session: Session, wanted: set[str]) -> dict[str, Texts]:
    """The ``wanted`` scenarios' descriptions, one text each: the database joins them
    per exercise (one pass over the table, no sort by scenario), joined here."""
    scenario_of = dict(
        session.connection().execute(select(Exercise.id, Exercise.scenario_id)).all()
    )
    parts: dict[str, list[str]] = {}
    lines: Counter[str] = Counter()
    query = select(
        Finding.exercise_id, func.count(), joined_lines(text_line(Finding.number))
    ).group_by(Finding.exercise_id)
    for exercise, count, joined in session.connection().execute(query):
        sid = scenario_of.get(int(exercise)) if exercise is not None else None
        if sid in wanted:
            parts.setdefault(sid, []).append(joined)
            lines[sid] += int(count)
    texts: dict[str, Texts] = {}
    for sid, chunks in parts.items():
        text = Texts(LINE.join(chunks))
        if not text.valid(lines[sid]):  # a description holds a separator: row by row
            rows = (
                session.connection()
                .execute(
                    select(Finding.number, Finding.description)
                    .join(Exercise, Exercise.id == Finding.exercise_id)
                    .where(Exercise.scenario_id == sid)
                )
                .all()
            )
            text = Texts.from_rows(rows)
        texts[sid] = text
    return texts


def _sample_frequency(texts: dict[str, Texts]) -> Counter[str]:
    """How common words are, from a piece of each scenario's text."""
    piece = SAMPLE_CHARS // max(1, len(texts))
    return Texts(LINE.join(t.text[:piece] for t in texts.values()), lowered=True).frequency()


def _repeats(
    session: Session,
    scenarios: dict[str, _Scenario],
    stats: dict[tuple[str, str], tuple[int, Any]],
) -> dict[str, list[FindingRepeat]]:
    """The groups seen in more than one run: a capability group's runs are those the
    database counted for its capability, less the exercises whose only findings of it
    went to other groups, plus those of the findings that came in."""
    special: set[int] = set()
    for scenario in scenarios.values():
        for group in scenario.groups:
            special.update(row[4] for row in group.members)
        for rows in scenario.moved.values():
            special.update(row[4] for row in rows)
    per_exercise: Counter[tuple[int, str]] = Counter()
    for chunk in _chunks(sorted(special)):
        query = (
            select(Finding.exercise_id, Finding.capability, func.count())
            .where(Finding.exercise_id.in_(chunk), Finding.capability.is_not(None))
            .group_by(Finding.exercise_id, Finding.capability)
        )
        for exercise, capability, count in session.connection().execute(query):
            per_exercise[int(exercise or 0), str(capability)] = int(count)
    found: dict[str, list[FindingRepeat]] = {}
    for sid, scenario in scenarios.items():
        repeats = []
        for group in scenario.groups:
            runs = {row[4] for row in group.members}
            count = len(runs)
            if group.capability:
                capability = group.capability
                moved = Counter(row[4] for row in scenario.moved.get(capability, ()))
                touched = runs | set(moved)
                stayed = {e for e in touched if per_exercise[e, capability] - moved[e] > 0}
                had = {e for e in touched if per_exercise[e, capability] > 0}
                count = stats[sid, capability][0] - len(had) + len(runs | stayed)
            if count > 1:
                first_id, description, created = group.first[0], group.first[1], group.first[3]
                repeats.append(
                    FindingRepeat(
                        sid, f"{first_id}: {clip(description, 80)}", count, _moment(created)
                    )
                )
        found[sid] = repeats
    return found


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[start : start + CHUNK] for start in range(0, len(values), CHUNK)]


def repeats_source(open_session: Callable[[], Session]) -> FindingRepeatSource:
    """A scenario id -> repeated gaps lookup over a store (what lint asks for, scenario by
    scenario): every scenario's are found at the first question, in one read."""
    found: dict[str, list[FindingRepeat]] | None = None

    def lookup(scenario_id: str) -> Sequence[FindingRepeat]:
        nonlocal found
        if found is None:
            session = open_session()
            try:
                with bulk_read():  # thousands of rows, none in a cycle
                    found = stored_repeated_gaps(session)
            finally:
                session.close()
        return found.get(scenario_id, [])

    return lookup
