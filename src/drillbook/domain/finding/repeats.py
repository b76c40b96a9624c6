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
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from drillbook.clip import clip
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


def repeated_gaps(session: Session, scenario_id: str) -> list[FindingRepeat]:
    """Gaps recorded in more than one exercise of ``scenario_id``."""
    # Only the columns the comparison reads (not ORM objects with their history: lint asks
    # this for every scenario, and a program has thousands of findings per scenario).
    rows = session.execute(
        select(
            Finding.id,
            Finding.description,
            Finding.capability,
            Finding.created_at,
            Exercise.id.label("exercise_id"),
        )
        .join(Exercise, Exercise.id == Finding.exercise_id)
        .where(Exercise.scenario_id == scenario_id)
        .order_by(Finding.created_at, Finding.number)
    ).all()
    # A finding joins the first group (in order of creation) whose first finding it is
    # similar to (same capability, or wording with Jaccard >= 0.4, as ranking judges).
    # Groups are indexed by their first's capability, so only groups created before that
    # one need their wording compared: linear in the findings, not findings x groups.
    groups: list[tuple[Finding, set[int]]] = []
    group_words: list[frozenset[str]] = []
    first_with: dict[str, int] = {}
    for row in rows:
        finding, exercise_id = cast(Finding, row), row.exercise_id
        words = _words(finding.description)
        stop = first_with.get(finding.capability or "", len(groups))
        chosen = stop if stop < len(groups) else None
        for index in range(stop):
            other = group_words[index]
            if words and other and len(words & other) / len(words | other) >= SIMILARITY:
                chosen = index
                break
        if chosen is not None:
            groups[chosen][1].add(exercise_id)
            continue
        groups.append((finding, {exercise_id}))
        group_words.append(words)
        if finding.capability:
            first_with.setdefault(finding.capability, len(groups) - 1)
    return [
        FindingRepeat(
            scenario_id,
            f"{first.id}: {clip(first.description, 80)}",
            len(runs),
            first.created_at,
        )
        for first, runs in groups
        if len(runs) > 1
    ]


def repeats_source(open_session: Callable[[], Session]) -> FindingRepeatSource:
    """A scenario id -> repeated gaps lookup over a store (what lint asks for)."""

    def lookup(scenario_id: str) -> Sequence[FindingRepeat]:
        session = open_session()
        try:
            return repeated_gaps(session, scenario_id)
        finally:
            session.close()

    return lookup
