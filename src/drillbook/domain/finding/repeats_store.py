"""Lint's repeat check over the store, without splitting every description into words.

:func:`~drillbook.domain.finding.repeats._grouped` walks a scenario's findings in order
of creation: each joins the first group whose first finding is worded like it (Jaccard
>= SIMILARITY), else its capability's group, else starts a group. At 100,000 findings
reading them all and splitting each description took a second. Here the grouping is the
same, computed from the little that decides it, with one pass of the database over the
findings (per exercise: its capabilities, its first time and its descriptions joined;
:mod:`~drillbook.domain.finding.repeats_read`):

* a group starts only at a capability's first finding (or a later one, when every
  earlier one joined a group by its wording) or at a finding with no capability; these
  *pioneers* are few, read in order (a capability's first is among the findings of its
  earliest exercises), and grouped exactly as ``_grouped`` does;
* every other finding of a capability joins that capability's group unless it is worded
  like the first of an earlier group: the descriptions worded like those few firsts are
  found in one pass over each scenario's text (:mod:`drillbook.domain.finding.wording`);
* a group's runs are the exercises that recorded its capability, corrected for the few
  findings that went elsewhere or came in.
"""

from __future__ import annotations

import heapq
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from drillbook.clip import clip
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.ranking import SIMILARITY, _words
from drillbook.domain.finding.repeats import (
    FindingRepeat,
    _in_creation_order,
    _moment,
    _runs_query,
)
from drillbook.domain.finding.repeats_read import ExerciseFindings, Parsed, WholeRead, read_whole
from drillbook.domain.finding.wording import LINE, Texts
from drillbook.storage.bulk import bulk_read

CHUNK = 2000  # values per IN list
SAMPLE_CHARS = 200_000  # characters of text that estimate how common each word is

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


def stored_repeated_gaps(
    session: Session, read: WholeRead | None = None
) -> dict[str, list[FindingRepeat]]:
    """:func:`~drillbook.domain.finding.repeats.every_repeated_gap`, read as above
    (``read``: the reads over every finding, when made already)."""
    parsed = Parsed(session, read if read is not None else read_whole(session))
    exercises = parsed.exercises
    runs = parsed.runs()
    pending: dict[str, list[tuple[Any, int, Row]]] = {}
    # those without a capability (through the capability index: none, or few)
    unnamed = or_(Finding.capability.is_(None), Finding.capability == "")
    loose = session.connection().execute(_runs_query().where(unnamed))
    for row in [*_firsts(session, exercises, set(runs)), *loose]:
        pending.setdefault(row[5], []).append((row[3], row[6], row))
    scenarios = {sid: _pioneer_groups(session, sid, heap) for sid, heap in pending.items()}
    _redirect(session, scenarios, parsed)
    return _repeats(session, scenarios, runs)


def _firsts(
    session: Session, exercises: dict[int, ExerciseFindings], keys: set[tuple[str, str]]
) -> list[Row]:
    """Each (scenario, capability)'s first finding in order of creation (time, then
    number). It is no earlier than its exercise's first finding, so the exercises are read
    in that order: first those starting with the earliest that recorded the capability,
    then those starting no later than the best found (a second round, when the best came
    after its exercise's start)."""
    order = sorted(exercises.items(), key=lambda item: item[1].first)
    bound: dict[tuple[str, str], Any] = {}  # read the key's exercises starting until then
    unseen = set(keys)
    for _, exercise in order:
        for capability in exercise.capabilities:
            key = (exercise.scenario, capability)
            if key in unseen:
                bound[key] = exercise.first
                unseen.discard(key)
        if not unseen:
            break
    best: dict[tuple[str, str], Row] = {}
    read: set[tuple[int, str]] = set()
    while bound:
        latest = max(bound.values())
        wanted: set[tuple[int, str]] = set()
        for exercise_id, exercise in order:
            if exercise.first > latest:
                break
            for capability in exercise.capabilities:
                until = bound.get((exercise.scenario, capability))
                if until is not None and exercise.first <= until:
                    wanted.add((exercise_id, capability))
        wanted -= read
        if not wanted:
            break
        read |= wanted
        for chunk in _chunks(sorted(wanted)):
            # both lists through the exercise index; the pairs are picked here
            query = _runs_query().where(
                Finding.exercise_id.in_(sorted({e for e, _ in chunk})),
                Finding.capability.in_(sorted({c for _, c in chunk})),
            )
            for row in session.connection().execute(query):
                key = (row[5], str(row[2]))
                if (row[4], key[1]) not in wanted:
                    continue
                if key in best and (best[key][3], best[key][6]) <= (row[3], row[6]):
                    continue
                best[key] = row
        bound = {key: best[key][3] if key in best else until for key, until in bound.items()}
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


def _redirect(session: Session, scenarios: dict[str, _Scenario], parsed: Parsed) -> None:
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
    texts = parsed.texts(asking)
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


def _sample_frequency(texts: dict[str, Texts]) -> Counter[str]:
    """How common words are, from a piece of each scenario's text."""
    piece = SAMPLE_CHARS // max(1, len(texts))
    sample = LINE.join(t.text[:piece] for t in texts.values())
    return Texts(sample, [], lowered=True).frequency()


def _repeats(
    session: Session,
    scenarios: dict[str, _Scenario],
    runs_of: Counter[tuple[str, str]],
) -> dict[str, list[FindingRepeat]]:
    """The groups seen in more than one run: a capability group's runs are the exercises
    that recorded its capability, less those whose only findings of it went to other
    groups, plus those of the findings that came in."""
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
                count = runs_of[sid, capability] - len(had) + len(runs | stayed)
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


class StoredRepeats:
    """A scenario id -> repeated gaps lookup over a store (what lint asks for, scenario by
    scenario): every scenario's are found at once, in a read-only unit of work.

    With ``early``, they are found in a thread started now: lint starts it before it
    reads the library's files. The thread first has the database make its reads over
    every finding (:func:`~drillbook.domain.finding.repeats_read.read_whole`, one row
    each: the database works while Python parses YAML), then waits for the first question
    before it does its own share in Python, so that the two threads never take turns at
    the interpreter (the store's connections are per thread; SQLite in WAL mode lets lint
    record revisions meanwhile). :meth:`wait` is for a caller that may ask none, and
    :meth:`release` for one that stops early: the thread then finishes on its own."""

    def __init__(
        self, reading: Callable[[], AbstractContextManager[Session]], *, early: bool = False
    ) -> None:
        self._reading = reading
        self._found: dict[str, list[FindingRepeat]] | None = None
        self._failure: BaseException | None = None
        self._asked = threading.Event()
        self._worker: threading.Thread | None = None
        if early:
            self._worker = threading.Thread(target=self._find, name="repeats", daemon=True)
            self._worker.start()

    def _find(self) -> None:
        try:
            with bulk_read(), self._reading() as session:  # thousands of rows, no cycles
                read = read_whole(session)
                self._asked.wait()
                self._found = stored_repeated_gaps(session, read)
        except BaseException as exc:  # handed to the caller by wait()
            self._failure = exc

    def release(self) -> None:
        """Let the thread go on without anyone waiting for it."""
        self._asked.set()

    def wait(self) -> None:
        self._asked.set()
        if self._worker is not None:
            self._worker.join()
            self._worker = None
        elif self._found is None and self._failure is None:
            self._find()
        if self._failure is not None:
            raise self._failure

    def __call__(self, scenario_id: str) -> Sequence[FindingRepeat]:
        self.wait()
        return (self._found or {}).get(scenario_id, [])
