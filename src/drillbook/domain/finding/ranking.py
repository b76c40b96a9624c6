"""Rank open fixes by how likely the same gap is to show up in a real incident.

The score is a sum of four visible terms, so every row can say why it ranks where it does::

    score = 3 × recurrences          (capped at 5)   the gap came back in other runs
          + 10 × coverage share      (0..10)         share of library scenarios that
                                                     exercise the same capability
          + 2 × severity rank        (low 2 .. critical 8)
          + 1 per 30 days open       (capped at 6)   old gaps have had more chances to bite

*Recurrences* counts the other exercises, drills and incidents (distinct sources, not
this finding's own) that produced a finding in the same capability or with a similar
description (word overlap, Jaccard ≥ 0.4). *Coverage* uses the category and wording
mapping of :mod:`drillbook.domain.finding.classify`. Ties go to the older finding id.
"""

from __future__ import annotations

import re
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


def rank_findings(
    candidates: Sequence[Finding],
    history: Sequence[Finding],
    scenarios: Sequence[Scenario],
    today: date,
) -> list[RankedFinding]:
    """Rank ``candidates`` (the open fixes) against ``history`` (every finding, any status)
    and the library's ``scenarios``."""
    coverage: dict[str, int] = {}
    for scenario in scenarios:
        for capability in scenario_capabilities(scenario):
            coverage[str(capability)] = coverage.get(str(capability), 0) + 1
    ranked = []
    for finding in candidates:
        own = source_key(finding)
        sources = sorted(
            {
                source_key(other)
                for other in history
                if other.id != finding.id and source_key(other) != own and similar(finding, other)
            }
        )
        covering = coverage.get(finding.capability or "", 0)
        age = max(0, (today - finding.created_at.date()).days)
        terms = score_terms(
            recurrences=len(sources),
            covering=covering,
            total=len(scenarios),
            severity=finding.severity,
            age_days=age,
        )
        ranked.append(
            RankedFinding(
                finding=finding,
                score=round(sum(terms.values()), 2),
                recurrences=len(sources),
                recurred_in=tuple(sources),
                scenarios_covering=covering,
                scenarios_total=len(scenarios),
                age_days=age,
                terms=terms,
            )
        )
    ranked.sort(key=lambda r: (-r.score, r.finding.number))
    return ranked
