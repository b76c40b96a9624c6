"""Lint's repeat check over the store groups exactly as walking every finding does."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert

from drillbook.domain.exercise.models import Exercise
from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.repeats import every_repeated_gap
from drillbook.domain.finding.repeats_store import stored_repeated_gaps
from drillbook.storage.engine import Store

START = datetime(2026, 1, 5, 9, tzinfo=UTC)
# the last holds the separator the database joins descriptions with: read row by row
WORDS = ["pager", "rotation", "legal", "regulator", "stale", "wiki", "wiki\x1epage"]


def _store(store: Store, exercises: list[str], findings: list[Any]) -> None:
    """``exercises``: each one's scenario; ``findings``: (exercise index, capability,
    words, hours after the start) in number order."""
    exercise_rows = [
        {
            "id": n,
            "scenario_id": scenario,
            "title": f"Exercise {n}",
            "team": "sre",
            "status": "reported",
            "run_date": date(2026, 1, 5),
            "created_at": START,
            "participants": [],
            "next_actions": [],
        }
        for n, scenario in enumerate(exercises, start=1)
    ]
    finding_rows = [
        {
            "id": f"F-{number:03d}",
            "number": number,
            "severity": "high",
            "description": words,
            "status": "open",
            "capability": capability,
            "source": "exercise",
            "exercise_id": exercise % len(exercises) + 1,
            "created_at": START + timedelta(hours=hours),
            "updated_at": START,
            "extra": {},
        }
        for number, (exercise, capability, words, hours) in enumerate(findings, start=1)
    ]
    with store.engine.begin() as connection:
        connection.execute(delete(Finding.__table__))
        connection.execute(delete(Exercise.__table__))
        connection.execute(insert(Exercise.__table__), exercise_rows)
        if finding_rows:
            connection.execute(insert(Finding.__table__), finding_rows)


def _both(store: Store) -> tuple[Any, Any]:
    with store.reading() as session:
        return every_repeated_gap(session), stored_repeated_gaps(session)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    exercises=st.lists(st.sampled_from(["s1", "s2"]), min_size=1, max_size=8),
    findings=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=7),
            st.sampled_from([None, "", "on_call", "runbook", "detection"]),
            st.lists(st.sampled_from(WORDS), max_size=3).map(" ".join),
            st.integers(min_value=0, max_value=4),  # hours: many ties
        ),
        max_size=40,
    ),
)
def test_stored_grouping_equals_walking_every_finding(
    store: Store, exercises: list[str], findings: list[Any]
) -> None:
    """Random runs of two scenarios on both databases, with few words (wording often
    decides), few capabilities and tied times: the same groups, runs and firsts."""
    _store(store, exercises, findings)
    expected, got = _both(store)
    assert got == expected


def test_a_capability_first_worded_like_an_earlier_group_is_not_its_first(
    store: Store,
) -> None:
    """on_call's first finding joins runbook's group by its wording, so on_call's group
    starts at its second; a later on_call finding worded like runbook's first joins
    runbook's group too, and the exercise it leaves behind no longer counts for on_call."""
    _store(
        store,
        ["s1", "s1", "s1", "s1"],
        [
            (0, "runbook", "stale wiki pages", 0),
            (1, "on_call", "stale wiki pages again", 1),  # joins runbook's group
            (1, "on_call", "pager rotation", 2),  # on_call's group starts here
            (2, "on_call", "pager rotation gap", 3),
            (3, "on_call", "stale wiki", 4),  # worded like runbook's first: moves
            (3, None, "legal unsure", 5),
        ],
    )
    expected, got = _both(store)
    assert got == expected
    assert [(r.finding.split(":")[0], r.runs) for r in got["s1"]] == [
        ("F-001", 3),  # exercises 1, 2 and 4
        ("F-003", 2),  # exercises 2 and 3 (4 left with F-005)
    ]
