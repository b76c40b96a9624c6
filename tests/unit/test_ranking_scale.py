"""The linear ranking and repeat grouping agree with the obvious quadratic definitions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.ranking import rank_findings, similar, source_key

WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
TODAY = date(2026, 6, 1)

finding_specs = st.lists(
    st.tuples(
        st.sampled_from([None, "on_call", "detection", "runbook"]),
        st.lists(st.sampled_from(WORDS), min_size=0, max_size=5),
        st.integers(min_value=1, max_value=6),  # exercise
        st.sampled_from(["critical", "high", "medium", "low"]),
    ),
    min_size=1,
    max_size=25,
)


def _findings(specs: list[tuple[Any, list[str], int, str]]) -> list[Finding]:
    return [
        cast(
            Finding,
            SimpleNamespace(
                id=f"F-{n:03d}",
                number=n,
                capability=cap,
                description=" ".join(words),
                exercise_id=exercise,
                source="exercise",
                source_ref=None,
                severity=severity,
                created_at=datetime(2026, 1, n % 28 + 1, tzinfo=UTC),
            ),
        )
        for n, (cap, words, exercise, severity) in enumerate(specs, start=1)
    ]


@settings(max_examples=60, deadline=None)
@given(finding_specs, st.none() | st.integers(min_value=1, max_value=5))
def test_linear_rank_matches_the_pairwise_definition(specs: Any, limit: int | None) -> None:
    history = _findings(specs)
    ranked = rank_findings(history, history, [], TODAY, limit=limit)
    expected = {}
    for finding in history:
        own = source_key(finding)
        sources = sorted(
            {
                source_key(o)
                for o in history
                if o.id != finding.id and source_key(o) != own and similar(finding, o)
            }
        )
        expected[finding.id] = (len(sources), tuple(sources[:5]))
    assert len(ranked) == (len(history) if limit is None else min(limit, len(history)))
    for row in ranked:
        assert (row.recurrences, row.recurred_in) == expected[row.finding.id]
    full = rank_findings(history, history, [], TODAY)
    assert [r.finding.id for r in ranked] == [r.finding.id for r in full[:limit]]
    assert [r.score for r in ranked] == [r.score for r in full[:limit]]
