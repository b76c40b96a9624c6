"""``finding rank`` over the store: the database finds the rows that can make the top.

Ranking every open fix in Python meant reading all 100,000 findings and splitting their
descriptions into words (1.3 s). The score (see :mod:`drillbook.domain.finding.ranking`)
is a sum of four terms; three of them depend only on a fix's capability, severity and
age, and the fourth (recurrences) is settled at its cap for every fix whose capability
already came back in :data:`~drillbook.domain.finding.ranking.RECURRENCE_CAP` other runs,
which the database counts per capability. So the database orders the settled fixes by
their exact score (in hundredths, integers: no rounding differs) and returns the top
``limit``; an unsettled fix can only rank there if its best possible score reaches the
last of those, and only those are read too. :func:`rank_findings` then scores this
handful exactly as it scores everything, against a :class:`StoredHistory` that answers
its questions about the other findings with a few queries, so the rows, scores and
sources are those the whole computation gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    desc,
    func,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.ranking import (
    AGE_CAP,
    AGE_DAYS_PER_POINT,
    RECURRED_SHOWN,
    RECURRENCE_CAP,
    SEVERITY_POINTS,
    HistoryIndex,
    RankedFinding,
    _History,
    _words,
    coverage_points,
    rank_findings,
    scenario_coverage,
    source_key,
)
from drillbook.domain.finding.rows import RankCandidate, iter_findings
from drillbook.domain.finding.service import _active_clause
from drillbook.domain.finding.sql import read_texts
from drillbook.domain.finding.sql import source_key as source_key_sql
from drillbook.domain.finding.wording import Texts
from drillbook.domain.scenario.enums import Severity
from drillbook.domain.scenario.models import Scenario

SCAN_MOST = 64  # candidates whose wording is looked up in the joined text; more: in memory
CHUNK = 5000  # values per IN list


def rank_stored(
    session: Session,
    scenarios: Sequence[Scenario],
    today: date,
    *,
    team: str | None = None,
    limit: int | None = None,
) -> list[RankedFinding]:
    """The open fixes (of ``team``) ranked against every stored finding, as
    :func:`rank_findings` ranks them; with ``limit``, the top ``limit`` only. The rows'
    ``finding`` is a :class:`~drillbook.domain.finding.rows.RankCandidate` (what the
    score reads)."""
    history = StoredHistory(session)
    base = select(*_CANDIDATE_COLUMNS).where(_active_clause(today))
    if team is not None:
        base = base.where(Finding.team == team)
    coverage = scenario_coverage(scenarios)  # every scenario's text searched: once
    if limit is not None and limit > 0:
        points = coverage_points(coverage, len(scenarios))
        rows = _contenders(session, base, history.counts, points, today, limit)
    else:
        rows = list(session.connection().execute(base))
    candidates: list[Any] = [RankCandidate(row[:9]) for row in rows]
    return rank_findings(candidates, history, scenarios, today, limit=limit, coverage=coverage)


def rank_open_fixes(
    session: Session,
    scenarios: Sequence[Scenario],
    today: date,
    *,
    team: str | None = None,
    limit: int | None = None,
) -> list[RankedFinding]:
    """:func:`rank_stored`, with each row's finding read in full (without its history)
    for the output (``finding rank``, the MCP tool): by id when they are a page."""
    ranked = rank_stored(session, scenarios, today, team=team, limit=limit)
    shown = {r.finding.id for r in ranked}
    # the rows are open fixes of the team already
    wanted: dict[str, Any] = (
        {"ids": sorted(shown)} if limit is not None else {"active": True, "team": team}
    )
    read = {
        row.id: row
        for row in iter_findings(session, history=False, columns=SHOWN_COLUMNS, **wanted)
        if row.id in shown
    }
    return [replace(r, finding=cast(Finding, read[r.finding.id])) for r in ranked]


SHOWN_COLUMNS = (
    "severity",
    "description",
    "proposed_remediation",
    "owner",
    "team",
    "status",
    "change_type",
    "capability",
    "source",
    "source_ref",
    "exercise_id",
    "risk_expires",
    "created_at",
    "extra",
)  # what a ranked row's output reads


_CANDIDATE_COLUMNS = (
    Finding.id,
    Finding.number,
    Finding.capability,
    Finding.severity,
    type_coerce(Finding.created_at, NullType()),  # parsed by RankCandidate
    Finding.description,
    Finding.exercise_id,
    Finding.source,
    Finding.source_ref,
)


def score_hundredths(coverage: dict[str, float], today: date) -> ColumnElement[int]:
    """The coverage, severity and age terms of a fix's score, in hundredths (an integer
    in both databases; the recurrence term is added by the caller)."""
    terms: list[ColumnElement[int]] = []
    if coverage:
        terms.append(
            case(
                {cap: round(value * 100) for cap, value in coverage.items()},
                value=Finding.capability,
                else_=0,
            )
        )
    terms.append(
        case(
            {str(s): round(SEVERITY_POINTS * s.rank * 100) for s in Severity},
            value=Finding.severity,
            else_=0,
        )
    )
    # age // 30 >= k  <=>  opened before the start of day (today - 30k + 1), UTC
    terms.append(
        case(
            *[
                (
                    Finding.created_at
                    < datetime.combine(
                        today - timedelta(days=AGE_DAYS_PER_POINT * k - 1), time(), tzinfo=UTC
                    ),
                    100 * k,
                )
                for k in range(int(AGE_CAP), 0, -1)
            ],
            else_=0,
        )
    )
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def _contenders(
    session: Session,
    base: Any,
    counts: dict[str, int],
    coverage: dict[str, float],
    today: date,
    limit: int,
) -> list[Any]:
    """The candidates that can be in the top ``limit``: the top ``limit`` of those whose
    score is settled (ordered by the database), and the others whose best possible score
    (recurrence at its cap) reaches the last of those."""
    settled = sorted(cap for cap, count in counts.items() if count - 1 >= RECURRENCE_CAP)
    # every stored capability is counted: the others are those below the cap (or none)
    unsettled = sorted(cap for cap, count in counts.items() if count - 1 < RECURRENCE_CAP)
    points = score_hundredths(coverage, today)
    with_points = base.add_columns(points.label("points"))
    top = list(
        session.connection().execute(
            with_points.where(Finding.capability.in_(settled))
            .order_by(desc("points"), Finding.number)
            .limit(limit)
        )
    )
    rest = with_points.where(
        or_(Finding.capability.is_(None), Finding.capability.in_(["", *unsettled]))
    )
    if len(top) == limit:
        rest = rest.where(points >= top[-1].points)
    return [*top, *session.connection().execute(rest)]


class StoredHistory(HistoryIndex):
    """The history as the database holds it, for candidates that are stored findings
    (each candidate's own run is among those of its capability).

    * runs per capability: counted by the database once;
    * runs worded like a few candidates: the descriptions read as one text
      (:mod:`drillbook.domain.finding.wording`), then the matching findings' runs and
      those runs' capabilities looked up; for many candidates, every finding is read
      into memory once, as :class:`~drillbook.domain.finding.ranking._History` needs;
    * the runs a row names: the first few of its capability, in code point order.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self.counts = capability_counts(session)
        self._texts: Texts | None = None
        self._memory: _History | None = None
        self._first: dict[str, list[str]] = {}

    def capability_sources(self, finding: Any, own: str) -> int:
        return max(0, self.counts.get(finding.capability or "", 0) - 1)

    def worded_sources(self, findings: Sequence[Any]) -> list[set[str]]:
        if not findings:
            return []
        if len(findings) > SCAN_MOST:
            return self._in_memory().worded_sources(findings)
        if self._texts is None:
            self._texts = read_texts(self.session)
        similar = self._texts.similar([_words(f.description) for f in findings])
        numbers = sorted({int(key) for keys in similar for key in keys})
        runs: dict[int, tuple[str, str]] = {}
        for chunk in _chunks(numbers):
            query = select(Finding.number, Finding.id, source_key_sql()).where(
                Finding.number.in_(chunk)
            )
            runs.update(
                (number, (fid, key))
                for number, fid, key in self.session.connection().execute(query)
            )
        capabilities = self._capabilities_of({key for _, key in runs.values()})
        found: list[set[str]] = []
        for finding, keys in zip(findings, similar, strict=True):
            own, capability = source_key(finding), finding.capability
            mine: set[str] = set()
            for number in keys:
                finding_id, key = runs[int(number)]
                if finding_id == finding.id or key == own:
                    continue
                if capability and capability in capabilities.get(key, ()):
                    continue  # counted with the capability already
                mine.add(key)
            found.append(mine)
        return found

    def shown_sources(self, finding: Any, own: str, worded: set[str]) -> tuple[str, ...]:
        first = [key for key in self._first_sources(finding.capability or "") if key != own]
        return tuple(sorted([*first, *worded])[:RECURRED_SHOWN])

    def will_show(self, findings: Sequence[Any]) -> None:
        wanted = sorted({f.capability for f in findings if f.capability} - set(self._first))
        if wanted:
            self._first.update(first_sources(self.session, wanted))

    def _first_sources(self, capability: str) -> list[str]:
        if not capability:
            return []
        if capability not in self._first:
            self.will_show([_Named(capability)])
        return self._first[capability]

    def _capabilities_of(self, keys: set[str]) -> dict[str, set[str]]:
        """The capabilities recorded in each of the runs ``keys``."""
        exercises = sorted({int(key[3:]) for key in keys if ":" not in key})
        others = sorted(key for key in keys if ":" in key)
        found: dict[str, set[str]] = {}
        key = source_key_sql()
        for chunk in _chunks(exercises):
            self._collect(found, key, Finding.exercise_id.in_(chunk))
        for chunk in _chunks(others):
            self._collect(found, key, and_(Finding.exercise_id.is_(None), key.in_(chunk)))
        return found

    def _collect(
        self, found: dict[str, set[str]], key: ColumnElement[str], where: ColumnElement[bool]
    ) -> None:
        query = select(key, Finding.capability).where(
            where, Finding.capability.is_not(None), Finding.capability != ""
        )
        for run, capability in self.session.connection().execute(query):
            found.setdefault(run, set()).add(str(capability))

    def _in_memory(self) -> _History:
        if self._memory is None:
            query = select(Finding.id, source_key_sql(), Finding.capability, Finding.description)
            self._memory = _History(
                [
                    (fid, key, cap, text)
                    for fid, key, cap, text in self.session.connection().execute(query)
                ]
            )
        return self._memory


def capability_counts(session: Session) -> dict[str, int]:
    """How many distinct runs recorded each capability (exercises through the
    (capability, exercise) index, other runs by their key)."""
    named = and_(Finding.capability.is_not(None), Finding.capability != "")
    counts: dict[str, int] = {}
    for where, counted in (
        (Finding.exercise_id.is_not(None), Finding.exercise_id),
        (Finding.exercise_id.is_(None), source_key_sql()),
    ):
        query = (
            select(Finding.capability, func.count(func.distinct(counted)))
            .where(named, where)
            .group_by(Finding.capability)
        )
        for capability, count in session.connection().execute(query):
            counts[str(capability)] = counts.get(str(capability), 0) + int(count)
    return counts


def _chunks(values: Sequence[Any]) -> list[Sequence[Any]]:
    return [values[start : start + CHUNK] for start in range(0, len(values), CHUNK)]


class _Named:
    def __init__(self, capability: str) -> None:
        self.capability = capability


def first_sources(session: Session, capabilities: Sequence[str]) -> dict[str, list[str]]:
    """The first ``RECURRED_SHOWN + 1`` runs of each capability in code point order.

    An exercise's run is ``EX-<id>``; among ids of one length, text order is number order,
    so the first few of each length are read from the (capability, exercise) index, a
    handful of rows per capability and length, in one statement. Other runs (drills,
    incidents) are few: read whole, sorted here."""
    wanted = RECURRED_SHOWN + 1
    connection = session.connection()
    found: dict[str, list[str]] = {capability: [] for capability in capabilities}
    largest = connection.execute(select(func.max(Finding.exercise_id))).scalar() or 0
    probes = []
    for capability in capabilities:
        ranges = [(None, 1)]  # ids below 1: none in practice, all of them read
        ranges += [(10 ** (n - 1), 10**n) for n in range(1, len(str(largest)) + 1)]
        for low, high in ranges:
            query = select(Finding.capability, Finding.exercise_id).where(
                Finding.capability == capability, Finding.exercise_id < high
            )
            if low is None:
                query = query.distinct()
            else:
                query = (
                    query.where(Finding.exercise_id >= low)
                    .distinct()
                    .order_by(Finding.exercise_id)
                    .limit(wanted)
                )
            probe = query.subquery()
            probes.append(select(probe.c.capability, probe.c.exercise_id))
    for capability, exercise in connection.execute(union_all(*probes)):
        found[capability].append(f"EX-{exercise}")
    others = select(Finding.capability, source_key_sql()).where(
        Finding.capability.in_(capabilities), Finding.exercise_id.is_(None)
    )
    for named, key in connection.execute(others.distinct()):
        found[str(named)].append(key)
    return {capability: sorted(set(keys))[:wanted] for capability, keys in found.items()}
