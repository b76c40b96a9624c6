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


class _History:
    """The history indexed once, so each candidate's recurrences are found without
    comparing it with every other finding (that made ranking quadratic: 385 s for 10,000
    findings).

    * same capability: the sources per capability, counted and sorted once;
    * similar wording: a prefix-filter index for the Jaccard threshold. Words are ordered
      rarest first; two word sets with Jaccard >= t must share a word among the first
      ``n - ceil(t * n) + 1`` of each, so only findings sharing such a word are compared.
    """

    def __init__(self, history: Sequence[Finding]) -> None:
        self.history = history
        self.by_capability: dict[str, set[str]] = {}
        self.keys = [source_key(f) for f in history]
        self.words = [_words(f.description) for f in history]
        for finding, key in zip(history, self.keys, strict=True):
            if finding.capability:
                self.by_capability.setdefault(finding.capability, set()).add(key)
        self.sorted_sources = {cap: sorted(keys) for cap, keys in self.by_capability.items()}
        frequency: Counter[str] = Counter(w for words in self.words for w in words)
        self.order = {w: (n, w) for w, n in frequency.items()}
        self.index: dict[str, list[int]] = {}
        for position, words in enumerate(self.words):
            for word in self._prefix(words):
                self.index.setdefault(word, []).append(position)

    def _prefix(self, words: frozenset[str]) -> list[str]:
        if not words:
            return []
        size = len(words)
        keep = size - math.ceil(SIMILARITY * size) + 1
        return sorted(words, key=lambda w: self.order.get(w, (0, w)))[:keep]

    def capability_sources(self, finding: Finding, own: str) -> int:
        keys = self.by_capability.get(finding.capability or "", set())
        return len(keys) - (1 if own in keys else 0)

    def worded_sources(self, finding: Finding, own: str) -> set[str]:
        """Sources of differently-capable findings worded like ``finding``."""
        words = _words(finding.description)
        same = (
            self.by_capability.get(finding.capability or "", set()) if finding.capability else set()
        )
        found: set[str] = set()
        seen: set[int] = set()
        for word in self._prefix(words):
            for position in self.index.get(word, ()):
                if position in seen:
                    continue
                seen.add(position)
                key = self.keys[position]
                if key == own or key in same or key in found:
                    continue
                other = self.words[position]
                similar_words = len(words & other) / len(words | other) >= SIMILARITY
                if similar_words and self.history[position].id != finding.id:
                    found.add(key)
        return found

    def shown_sources(self, finding: Finding, own: str, worded: set[str]) -> tuple[str, ...]:
        by_capability = self.sorted_sources.get(finding.capability or "", [])
        first = [k for k in by_capability[: RECURRED_SHOWN + 1] if k != own]
        return tuple(sorted([*first, *worded])[:RECURRED_SHOWN])


def rank_findings(
    candidates: Sequence[Finding],
    history: Sequence[Finding],
    scenarios: Sequence[Scenario],
    today: date,
    *,
    limit: int | None = None,
) -> list[RankedFinding]:
    """Rank ``candidates`` (the open fixes) against ``history`` (every finding, any status)
    and the library's ``scenarios``; with ``limit``, only the top ``limit``.

    Linear in the history: a candidate whose capability already recurred
    :data:`RECURRENCE_CAP` times has its recurrence term settled, so its wording is only
    compared for the rows returned (where the count and the sources are shown)."""
    coverage: dict[str, int] = {}
    for scenario in scenarios:
        for capability in scenario_capabilities(scenario):
            coverage[str(capability)] = coverage.get(str(capability), 0) + 1
    index = _History(history)
    scored: list[tuple[float, int, Finding, int, set[str] | None, int, dict[str, float]]] = []
    for finding in candidates:
        own = source_key(finding)
        by_capability = index.capability_sources(finding, own)
        worded = None if by_capability >= RECURRENCE_CAP else index.worded_sources(finding, own)
        recurrences = by_capability + len(worded or ())
        age = max(0, (today - finding.created_at.date()).days)
        terms = score_terms(
            recurrences=recurrences,
            covering=coverage.get(finding.capability or "", 0),
            total=len(scenarios),
            severity=finding.severity,
            age_days=age,
        )
        scored.append(
            (
                round(sum(terms.values()), 2),
                finding.number,
                finding,
                by_capability,
                worded,
                age,
                terms,
            )
        )
    scored.sort(key=lambda row: (-row[0], row[1]))
    ranked = []
    for score, _, finding, by_capability, worded, age, terms in scored[:limit]:
        own = source_key(finding)
        if worded is None:
            worded = index.worded_sources(finding, own)
        ranked.append(
            RankedFinding(
                finding=finding,
                score=score,
                recurrences=by_capability + len(worded),
                recurred_in=index.shown_sources(finding, own, worded),
                scenarios_covering=coverage.get(finding.capability or "", 0),
                scenarios_total=len(scenarios),
                age_days=age,
                terms=terms,
            )
        )
    return ranked
