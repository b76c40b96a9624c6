"""Findings that come back run after run of the same scenario.

Feeds lint's "scenario unchanged while its findings repeat" check (the second seed's
"tabletop becomes theatre" failure mode): when two runs of one scenario record the same
gap (same capability, or a description similar enough, as ranking judges it), the
scenario has stopped teaching the team anything new, or the fix never happened.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter
from typing import Any

from sqlalchemy import Select, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from drillbook.clip import clip
from drillbook.clock import ensure_utc
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.ranking import SIMILARITY, _words


@dataclass(frozen=True)
class FindingRepeat:
    """A finding that came back in more than one run of the same scenario.

    ``first_seen`` is when the finding was first recorded, ``runs`` how many runs
    recorded it. Lint (:mod:`drillbook.flows.lint_library`) turns these into warnings.
    """

    scenario_id: str
    finding: str
    runs: int
    first_seen: datetime


FindingRepeatSource = Callable[[str], Sequence[FindingRepeat]]
"""Given a scenario id, the findings that repeat across its runs: what lint's "scenario
unchanged while its findings repeat" check asks for (lint takes one as an argument, so a
test or a caller without a store can pass its own)."""


def _runs_query() -> Select[str, str, str | None, None, int, str, int]:
    # Only the columns the comparison reads (not ORM objects with their history: lint asks
    # this for every scenario, and a program has thousands of findings per scenario).
    return select(
        Finding.id,
        Finding.description,
        Finding.capability,
        # as stored: only each group's first is turned into a datetime
        type_coerce(Finding.created_at, NullType()),
        Exercise.id,
        Exercise.scenario_id,
        Finding.number,
    ).join(Exercise, Exercise.id == Finding.exercise_id)


def _in_creation_order(rows: Sequence[Any]) -> list[Any]:
    """``rows`` by creation time, then number: sorted here, which took a third of the time
    the database's sort did (as stored, the times sort as the database sorts them)."""
    return sorted(rows, key=itemgetter(3, 6))


def repeated_gaps(session: Session, scenario_id: str) -> list[FindingRepeat]:
    """Gaps recorded in more than one exercise of ``scenario_id``."""
    rows = session.execute(_runs_query().where(Exercise.scenario_id == scenario_id)).all()
    return _grouped(scenario_id, _in_creation_order(rows))


def every_repeated_gap(session: Session) -> dict[str, list[FindingRepeat]]:
    """:func:`repeated_gaps` of every scenario with findings, from one read of them all (a
    query per scenario read the whole findings table each time on PostgreSQL). Lint reads
    them through :func:`drillbook.domain.finding.repeats_store.stored_repeated_gaps`, the
    same answer without reading every finding; this is the definition it is tested on."""
    by_scenario: dict[str, list[Any]] = {}
    for row in _in_creation_order(session.execute(_runs_query()).all()):
        by_scenario.setdefault(row[5], []).append(row)
    return {sid: _grouped(sid, rows) for sid, rows in by_scenario.items()}


def _grouped(scenario_id: str, rows: Sequence[Any]) -> list[FindingRepeat]:
    """The repeated gaps among ``rows`` (one scenario's findings in order of creation)."""
    # A finding joins the first group (in order of creation) whose first finding it is
    # similar to (same capability, or wording with Jaccard >= 0.4, as ranking judges).
    # Groups are indexed by their first's capability, so only groups created before that
    # one need their wording compared: linear in the findings, not findings x groups.
    # Those comparisons are skipped when the finding shares too few words with all of
    # those groups' firsts together to reach the threshold with the smallest of them
    # (Jaccard >= t needs shared >= t * (|a| + |b|) / (1 + t)).
    groups: list[tuple[tuple[str, str, Any], set[int]]] = []
    group_words: list[frozenset[str]] = []
    seen_words: list[frozenset[str]] = [frozenset()]  # [k]: the words of groups 0..k-1
    smallest: list[int] = [0]  # [k]: the fewest words of groups 0..k-1 (0: none)
    first_with: dict[str, int] = {}
    for finding_id, description, capability, created, exercise_id, _scenario, _number in rows:
        stop = first_with.get(capability or "", len(groups))
        chosen = stop if stop < len(groups) else None
        words = _words(description) if stop or chosen is None else frozenset()
        if words and stop:
            size = len(words)
            reach = len(words & seen_words[stop])
            if reach and reach >= SIMILARITY * (size + smallest[stop]) / (1 + SIMILARITY) - 1e-9:
                for index in range(stop):
                    other = group_words[index]
                    if not other or words.isdisjoint(other):
                        continue
                    shared = len(words & other)
                    if shared / (size + len(other) - shared) >= SIMILARITY:
                        chosen = index
                        break
        if chosen is not None:
            groups[chosen][1].add(exercise_id)
            continue
        groups.append(((finding_id, description, created), {exercise_id}))
        group_words.append(words)
        seen_words.append(seen_words[-1] | words)
        sizes = [len(w) for w in group_words if w]
        smallest.append(min(sizes) if sizes else 0)
        if capability:
            first_with.setdefault(capability, len(groups) - 1)
    return [
        FindingRepeat(
            scenario_id,
            f"{first_id}: {clip(description, 80)}",
            len(runs),
            _moment(created),
        )
        for (first_id, description, created), runs in groups
        if len(runs) > 1
    ]


def _moment(value: Any) -> datetime:
    """A stored time as the aware UTC datetime the ORM gives (SQLite keeps the text)."""
    if isinstance(value, datetime):
        return ensure_utc(value)
    return ensure_utc(datetime.fromisoformat(str(value)))
