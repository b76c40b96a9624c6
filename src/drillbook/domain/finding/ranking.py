"""Rank open fixes by how likely the same gap is to show up in a real incident.

The score is a sum of four visible terms, so every row can say why it ranks where it does::

    score = 3 × recurrences          (capped at 5)   the gap came back in other runs
          + 10 × coverage share      (0..10)         share of library scenarios that
                                                     exercise the same capability
          + 2 × severity rank        (low 2 .. critical 8)
          + 1 per 30 days open       (capped at 6)   old gaps have had more chances to bite

*Recurrences* counts the other exercises, drills and incidents (distinct sources, not
this finding's own) that produced a finding in the same capability or with a similar
description (word overlap, Jaccard ≥ 0.4); the first five (in name order) are listed.
*Coverage* uses the category and wording mapping of
:mod:`drillbook.domain.finding.classify`. Ties go to the older finding id.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from itertools import chain

from drillbook.domain.finding.classify import scenario_capabilities
from drillbook.domain.finding.models import Finding
from drillbook.domain.scenario.enums import Severity
from drillbook.domain.scenario.models import Scenario

RECURRENCE_POINTS = 3.0
RECURRENCE_CAP = 5
COVERAGE_POINTS = 10.0
SEVERITY_POINTS = 2.0
AGE_DAYS_PER_POINT = 30
AGE_CAP = 6.0
SIMILARITY = 0.4
RECURRED_SHOWN = 5  # sources listed per row (the count covers them all)
FREQUENCY_SAMPLE = 5000  # findings whose words estimate how common each word is

_WORD = re.compile(r"[a-z0-9]{4,}")


@dataclass(frozen=True)
class RankedFinding:
    finding: Finding
    score: float
    recurrences: int
    recurred_in: tuple[str, ...]
    scenarios_covering: int
    scenarios_total: int
    age_days: int
    terms: dict[str, float]

    @property
    def change_type(self) -> str:
        return self.finding.change_type or "unclassified"

    @property
    def why(self) -> str:
        f = self.finding
        parts = []
        if self.recurrences:
            parts.append(f"recurred {self.recurrences}× ({', '.join(self.recurred_in)})")
        else:
            parts.append("first time seen")
        capability = f.capability or "no capability"
        parts.append(
            f"{self.scenarios_covering}/{self.scenarios_total} scenarios exercise {capability}"
        )
        parts.append(f"{f.severity}")
        parts.append(f"open {self.age_days} days")
        return "; ".join(parts)


def source_key(finding: Finding) -> str:
    """The run a finding came from: one exercise, one drill, one incident."""
    if finding.exercise_id is not None:
        return f"EX-{finding.exercise_id}"
    if finding.source_ref:
        return f"{finding.source}:{finding.source_ref}"
    return f"{finding.source}:{finding.id}"


def _words(text: str) -> frozenset[str]:
    return frozenset(_WORD.findall(text.lower()))


def similar(a: Finding, b: Finding) -> bool:
    if a.capability and a.capability == b.capability:
        return True
    left, right = _words(a.description), _words(b.description)
    if not left or not right:
        return False
    return len(left & right) / len(left | right) >= SIMILARITY


def score_terms(
    *, recurrences: int, covering: int, total: int, severity: str, age_days: int
) -> dict[str, float]:
    share = covering / total if total else 0.0
    return {
        "recurrence": RECURRENCE_POINTS * min(recurrences, RECURRENCE_CAP),
        "coverage": round(COVERAGE_POINTS * share, 2),
        "severity": SEVERITY_POINTS * Severity(severity).rank,
        "age": min(AGE_CAP, float(age_days // AGE_DAYS_PER_POINT)),
    }


Source = tuple[str, str, str | None, str]
"""What ranking reads of every finding: ``(id, source key, capability, description)``."""


def source_of(finding: Finding) -> Source:
    return (finding.id, source_key(finding), finding.capability, finding.description)


class HistoryIndex:
    """What ranking asks of the history (every finding, any status): how many other runs
    share a candidate's capability, which runs are worded like a few candidates, and the
    runs a shown row names. :class:`_History` answers from findings in memory;
    :class:`drillbook.domain.finding.rank_store.StoredHistory` asks the database."""

    def capability_sources(self, finding: Finding, own: str) -> int:
        raise NotImplementedError

    def worded_sources(self, findings: Sequence[Finding]) -> list[set[str]]:
        raise NotImplementedError

    def shown_sources(self, finding: Finding, own: str, worded: set[str]) -> tuple[str, ...]:
        raise NotImplementedError

    def will_show(self, findings: Sequence[Finding]) -> None:
        """Called with the rows to be shown before :meth:`shown_sources` is asked about
        each (an index over a database reads what they need at once)."""


class _History(HistoryIndex):
    """The history indexed once, so each candidate's recurrences are found without
    comparing it with every other finding (that made ranking quadratic: 385 s for 10,000
    findings).

    * same capability: the sources per capability, counted and sorted once (all that
      most candidates need: their capability already recurred the score's cap);
    * similar wording, for the candidates that need it, all at once and only then (the
      word sets of a program's findings were most of the time): each such candidate's
      rarest ``n - ceil(t * n) + 1`` words (t the threshold) form a prefix, and a finding
      can only have Jaccard >= t with it if it contains one of them (it must contain at
      least ``ceil(t * n)`` of the candidate's n words). One pass over the findings'
      word sets compares each only with the candidates whose prefix it meets.
    """

    def __init__(self, history: Sequence[Source]) -> None:
        ids, keys, capabilities, descriptions = zip(*history, strict=True) if history else ((),) * 4
        self.ids: Sequence[str] = ids
        self.keys: Sequence[str] = keys
        self.descriptions: Sequence[str] = descriptions
        self.by_capability: dict[str, set[str]] = {}
        for key, capability in zip(keys, capabilities, strict=True):
            if capability:
                self.by_capability.setdefault(capability, set()).add(key)
        self.sorted_sources = {cap: sorted(keys) for cap, keys in self.by_capability.items()}
        self._words: list[frozenset[str]] | None = None
        self._frequency: Counter[str] | None = None

    def capability_sources(self, finding: Finding, own: str) -> int:
        keys = self.by_capability.get(finding.capability or "", set())
        return len(keys) - (1 if own in keys else 0)

    def _word_sets(self) -> tuple[list[frozenset[str]], Counter[str]]:
        if self._words is None or self._frequency is None:
            findall = _WORD.findall
            self._words = [frozenset(findall(text.lower())) for text in self.descriptions]
            # which words are rare, from a sample: any choice of prefix words is exact,
            # rarer ones only make fewer comparisons
            step = max(1, len(self._words) // FREQUENCY_SAMPLE)
            self._frequency = Counter(chain.from_iterable(self._words[::step]))
        return self._words, self._frequency

    def worded_sources(self, findings: Sequence[Finding]) -> list[set[str]]:
        """For each of ``findings``: the sources of findings worded like it, other than
        its own run and runs that share its capability."""
        found: list[set[str]] = [set() for _ in findings]
        if not findings:
            return found
        words, frequency = self._word_sets()
        wanted: list[tuple[frozenset[str], str, set[str], str]] = []
        by_word: dict[str, list[int]] = {}
        for index, finding in enumerate(findings):
            mine = _words(finding.description)
            capability = finding.capability
            same = self.by_capability.get(capability, set()) if capability else set()
            wanted.append((mine, source_key(finding), same, finding.id))
            if not mine:
                continue
            size = len(mine)
            # one word more than the bound needs: float rounding can never drop a match
            keep = min(size, size - math.ceil(SIMILARITY * size) + 2)
            for word in sorted(mine, key=lambda w: (frequency[w], w))[:keep]:
                by_word.setdefault(word, []).append(index)
        prefixes = frozenset(by_word)
        for position, other in enumerate(words):
            if prefixes.isdisjoint(other):
                continue
            met = {i for word in prefixes.intersection(other) for i in by_word[word]}
            key = self.keys[position]
            for index in met:
                mine, own, same, finding_id = wanted[index]
                if key == own or key in same or key in found[index]:
                    continue
                shared = len(mine & other)
                union = len(mine) + len(other) - shared
                if shared / union >= SIMILARITY and self.ids[position] != finding_id:
                    found[index].add(key)
        return found

    def shown_sources(self, finding: Finding, own: str, worded: set[str]) -> tuple[str, ...]:
        by_capability = self.sorted_sources.get(finding.capability or "", [])
        first = [k for k in by_capability[: RECURRED_SHOWN + 1] if k != own]
        return tuple(sorted([*first, *worded])[:RECURRED_SHOWN])


def scenario_coverage(scenarios: Sequence[Scenario]) -> dict[str, int]:
    """How many of ``scenarios`` exercise each capability."""
    coverage: dict[str, int] = {}
    for scenario in scenarios:
        for capability in scenario_capabilities(scenario):
            coverage[str(capability)] = coverage.get(str(capability), 0) + 1
    return coverage


def coverage_points(coverage: dict[str, int], total: int) -> dict[str, float]:
    """The coverage term of each capability, as :func:`score_terms` gives it."""
    return {
        capability: score_terms(
            recurrences=0, covering=count, total=total, severity="low", age_days=0
        )["coverage"]
        for capability, count in coverage.items()
    }


def rank_findings(
    candidates: Sequence[Finding],
    history: Sequence[Finding] | Sequence[Source] | HistoryIndex,
    scenarios: Sequence[Scenario],
    today: date,
    *,
    limit: int | None = None,
    coverage: dict[str, int] | None = None,
) -> list[RankedFinding]:
    """Rank ``candidates`` (the open fixes) against ``history`` (every finding, any status,
    its :data:`Source` tuples, or a :class:`HistoryIndex` over them) and the library's
    ``scenarios`` (``coverage``: their :func:`scenario_coverage`, when known already);
    with ``limit``, only the top ``limit``.

    Linear in the history: a candidate whose capability already recurred
    :data:`RECURRENCE_CAP` times has its recurrence term settled, so its wording is only
    compared for the rows returned (where the count and the sources are shown)."""
    if coverage is None:
        coverage = scenario_coverage(scenarios)
    if isinstance(history, HistoryIndex):
        index = history
    else:
        index = _History([s if isinstance(s, tuple) else source_of(s) for s in history])
    owns = [source_key(finding) for finding in candidates]
    by_capability = [
        index.capability_sources(f, own) for f, own in zip(candidates, owns, strict=True)
    ]
    unsettled = [i for i, count in enumerate(by_capability) if count < RECURRENCE_CAP]
    worded: dict[int, set[str]] = dict(
        zip(unsettled, index.worded_sources([candidates[i] for i in unsettled]), strict=True)
    )
    # the terms as score_terms gives them, computed once per capability and severity;
    # the score is summed in the same order (the dictionary is built for the rows shown)
    severity_points = {str(s): SEVERITY_POINTS * s.rank for s in Severity}
    points = coverage_points(coverage, len(scenarios))
    scored: list[tuple[float, int, int, int]] = []
    for position, finding in enumerate(candidates):
        recurrences = by_capability[position] + len(worded.get(position, ()))
        age = max(0, (today - finding.created_at.date()).days)
        severity = severity_points.get(finding.severity)
        if severity is None:
            severity = SEVERITY_POINTS * Severity(finding.severity).rank
        total = (
            RECURRENCE_POINTS * min(recurrences, RECURRENCE_CAP)
            + points.get(finding.capability or "", 0.0)
            + severity
            + min(AGE_CAP, float(age // AGE_DAYS_PER_POINT))
        )
        scored.append((round(total, 2), finding.number, position, age))
    scored.sort(key=lambda row: (-row[0], row[1]))
    top = scored[:limit]
    missing = [position for _, _, position, _ in top if position not in worded]
    worded.update(zip(missing, index.worded_sources([candidates[i] for i in missing]), strict=True))
    index.will_show([candidates[position] for _, _, position, _ in top])
    ranked = []
    for score, _, position, age in top:
        finding, own = candidates[position], owns[position]
        found = worded[position]
        terms = score_terms(
            recurrences=by_capability[position] + len(found),
            covering=coverage.get(finding.capability or "", 0),
            total=len(scenarios),
            severity=finding.severity,
            age_days=age,
        )
        ranked.append(
            RankedFinding(
                finding=finding,
                score=score,
                recurrences=by_capability[position] + len(found),
                recurred_in=index.shown_sources(finding, own, found),
                scenarios_covering=coverage.get(finding.capability or "", 0),
                scenarios_total=len(scenarios),
                age_days=age,
                terms=terms,
            )
        )
    return ranked
