"""The reads of lint's repeat check that go over every finding, as one row each.

:mod:`~drillbook.domain.finding.repeats_store` needs, per exercise, its scenario, the
capabilities its findings recorded and its first finding's time, and each scenario's
descriptions with their numbers (the text it searches for wording). Read as rows, a
program's 10,000 exercises and 100,000 findings were 110,000 rows for Python to take one
by one, and a lint reads them in a thread while the main one parses the library's YAML:
each row fetched there waited for the parsing thread to let go of the interpreter. Here
the database joins them instead: one statement over the exercises and one over the
findings grouped by exercise, each of whose columns is one text (the exercises' values
joined by :data:`GROUP`, each exercise's findings by ``LINE``). Both are the database's
work alone, done while Python parses, and Python then splits a few long texts and joins
each scenario's part from its exercises' (10,000 pieces, not 100,000). Grouped by
exercise, SQLite reads the rows through the exercise index rather than in table order:
0.15 s of its time at 100,000 findings, against 0.17 s for a read in table order plus a
separate grouping of the exercises (and Python parting 100,000 lines by scenario).

A separator inside a stored value would shift the parts: every split is checked against
the counts the database gives, and what does not match is read again as rows (a
scenario id, capability or description holding one).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Any

from sqlalchemy import String, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from drillbook.domain.exercise.models import Exercise
from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.sql import joined_lines
from drillbook.domain.finding.wording import LINE, Texts
from drillbook.storage.sqlfunctions import spell

GROUP = "\x1d"  # between exercises (ASCII group separator); LINE is between findings


class joined_groups(FunctionElement[str]):
    """The group's values joined by :data:`GROUP`: one text of every exercise's joined
    findings."""

    type = String()
    inherit_cache = True


spell(joined_groups, sqlite="group_concat({v}, char(29))", default="string_agg({v}, chr(29))")


class time_text(FunctionElement[str]):
    """A stored time as text that sorts as the times do: as stored on SQLite (which
    keeps the text), UTC to the microsecond on PostgreSQL."""

    type = String()
    inherit_cache = True


spell(
    time_text,
    sqlite="{v}",
    default="to_char({v} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')",
)


@dataclass(slots=True)
class ExerciseFindings:
    """What the database says of an exercise's findings."""

    scenario: str
    capabilities: set[str]
    first: Any  # its first finding's time, as the runs query gives it


@dataclass
class WholeRead:
    """The two statements' answers as the database gave them (one row each)."""

    exercises: Any  # count, ids, scenario ids
    findings: Any  # exercises, their ids, counts, first times, capabilities, numbers, texts
    postgres: bool


def read_whole(session: Session) -> WholeRead:
    """Run the two statements (the database's share of the repeat check)."""
    connection = session.connection()
    exercises = connection.execute(
        select(
            func.count(),
            joined_lines(cast(Exercise.id, String)),
            joined_lines(Exercise.scenario_id),
        )
    ).one()
    per_exercise = (
        select(
            Finding.exercise_id.label("exercise"),
            func.count().label("findings"),
            time_text(func.min(Finding.created_at)).label("first"),
            joined_lines(func.coalesce(Finding.capability, "")).label("capabilities"),
            joined_lines(cast(Finding.number, String)).label("numbers"),
            joined_lines(Finding.description).label("descriptions"),
        )
        .where(Finding.exercise_id.is_not(None))
        .group_by(Finding.exercise_id)
        .subquery()
    )
    findings = connection.execute(
        select(
            func.count(),
            joined_lines(cast(per_exercise.c.exercise, String)),
            joined_lines(cast(per_exercise.c.findings, String)),
            joined_lines(per_exercise.c.first),
            joined_groups(per_exercise.c.capabilities),
            joined_groups(per_exercise.c.numbers),
            joined_groups(per_exercise.c.descriptions),
        )
    ).one()
    return WholeRead(exercises, findings, connection.dialect.name == "postgresql")


def _parts(count: int, joined: str | None, separator: str) -> list[str] | None:
    """``joined`` split into ``count`` parts; None when a separator inside a value makes
    more (or fewer) of them."""
    if not count:
        return []
    parts = (joined or "").split(separator)
    return parts if len(parts) == count else None


class Parsed:
    """:class:`WholeRead` split: the exercises with findings, and each scenario's text."""

    def __init__(self, session: Session, read: WholeRead) -> None:
        self._session = session
        self._postgres = read.postgres
        count, ids, scenario_ids = read.exercises
        id_parts = _parts(count, ids, LINE)
        scenario_parts = _parts(count, scenario_ids, LINE)
        if id_parts is None or scenario_parts is None:
            rows = session.connection().execute(select(Exercise.id, Exercise.scenario_id))
            self.scenario_of = {int(number): str(scenario) for number, scenario in rows}
        else:
            self.scenario_of = dict(zip(map(int, id_parts), scenario_parts, strict=True))
        count, ids, sizes, firsts, capabilities, numbers, texts = read.findings
        self._numbers = _parts(count, numbers, GROUP)
        self._texts = _parts(count, texts, GROUP)
        self._parts_of: dict[str, list[int]] = defaultdict(list)  # scenario -> its parts
        self.exercises: dict[int, ExerciseFindings] = {}
        id_parts, size_parts, first_parts = (_parts(count, c, LINE) for c in (ids, sizes, firsts))
        by_exercise = _parts(count, capabilities, GROUP)
        if id_parts is None or size_parts is None or first_parts is None or by_exercise is None:
            self._numbers = self._texts = None
            self._read_rows()
            return
        moments = map(self._moment, first_parts) if self._postgres else first_parts
        scenario_of = self.scenario_of
        for part, (number, size, first, listed) in enumerate(
            zip(id_parts, size_parts, moments, by_exercise, strict=True)
        ):
            exercise_id = int(number)
            scenario = scenario_of.get(exercise_id)
            if scenario is None:
                continue  # not an exercise's finding: lint joins exercises
            recorded = listed.split(LINE)
            # more parts than findings: a capability holds the separator
            kept = set(recorded) if len(recorded) == int(size) else self._capabilities(exercise_id)
            self.exercises[exercise_id] = ExerciseFindings(scenario, kept, first)
            self._parts_of[scenario].append(part)

    def runs(self) -> Counter[tuple[str, str]]:
        """Per (scenario, capability): how many exercises recorded it."""
        recorded: dict[str, list[set[str]]] = defaultdict(list)
        for exercise in self.exercises.values():
            recorded[exercise.scenario].append(exercise.capabilities)
        return Counter(
            {
                (sid, capability): count
                for sid, sets in recorded.items()
                for capability, count in Counter(chain.from_iterable(sets)).items()
                if capability
            }
        )

    def _moment(self, text: str) -> Any:
        """A first time as the runs query gives it: the text as stored on SQLite, an
        aware datetime on PostgreSQL."""
        return datetime.fromisoformat(text).replace(tzinfo=UTC) if self._postgres else text

    def _capabilities(self, exercise_id: int) -> set[str]:
        again = select(Finding.capability).where(Finding.exercise_id == exercise_id)
        return {c or "" for c in self._session.connection().execute(again).scalars()}

    def _read_rows(self) -> None:
        """Each exercise's capabilities and first time, as rows (a separator in a value
        shifted the joined ones)."""
        query = (
            select(Finding.exercise_id, Finding.capability, func.min(time_text(Finding.created_at)))
            .where(Finding.exercise_id.is_not(None))
            .group_by(Finding.exercise_id, Finding.capability)
        )
        for number, capability, first in self._session.connection().execute(query):
            exercise_id = int(number or 0)
            scenario = self.scenario_of.get(exercise_id)
            if scenario is None:
                continue
            moment = self._moment(first)
            found = self.exercises.get(exercise_id)
            if found is None:
                self.exercises[exercise_id] = ExerciseFindings(scenario, {capability or ""}, moment)
            else:
                found.capabilities.add(capability or "")
                found.first = min(found.first, moment)

    def texts(self, wanted: Iterable[str]) -> dict[str, Texts]:
        """The ``wanted`` scenarios' descriptions (lowered), one text each, keyed by
        number; read as rows when a description holds a separator."""
        wanted = set(wanted)
        if self._numbers is not None and self._texts is not None:
            found: dict[str, Texts] = {}
            for sid, parts in self._parts_of.items():
                if sid not in wanted:
                    continue
                keys = LINE.join([self._numbers[part] for part in parts]).split(LINE)
                lines = LINE.join([self._texts[part] for part in parts]).lower().split(LINE)
                if len(lines) != len(keys):
                    break  # a description holds the separator
                found[sid] = Texts.from_lines(lines, keys)
            else:
                return found
        return self._texts_as_rows(wanted)

    def _texts_as_rows(self, wanted: set[str]) -> dict[str, Texts]:
        rows = self._session.connection().execute(
            select(Finding.exercise_id, Finding.number, Finding.description).where(
                Finding.exercise_id.is_not(None)
            )
        )
        parts: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for exercise_id, number, description in rows:
            exercise = self.exercises.get(int(exercise_id or 0))
            if exercise is not None and exercise.scenario in wanted:
                parts[exercise.scenario].append((str(number), str(description)))
        return {sid: Texts.from_rows(part) for sid, part in parts.items()}
