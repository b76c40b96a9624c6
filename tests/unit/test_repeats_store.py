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


def test_the_early_lookup_answers_as_the_lazy_one(store: Store) -> None:
    """Found in a thread started before the question (lint reads its files meanwhile),
    the answer is the same; a failure there is raised to the one asking."""
    import contextlib

    import pytest

    from drillbook.domain.finding.repeats_store import StoredRepeats

    _store(
        store,
        ["s1", "s1", "s2"],
        [(0, "on_call", "pager", 0), (1, "on_call", "pager again", 1), (2, None, "wiki", 2)],
    )
    early, lazy = StoredRepeats(store.reading, early=True), StoredRepeats(store.reading)
    assert [early(sid) for sid in ("s1", "s2", "s3")] == [lazy(sid) for sid in ("s1", "s2", "s3")]
    assert early("s1")[0].runs == 2

    @contextlib.contextmanager
    def broken() -> Any:
        raise RuntimeError("no store")
        yield

    failing = StoredRepeats(broken, early=True)
    with pytest.raises(RuntimeError, match="no store"):
        failing.wait()


# Each value that can hold one of the separators the database joins values with (LINE
# between findings, GROUP between exercises): read again as rows, the same answer.
SEPARATED_WORDS = [*WORDS[:6], "wiki\x1dpage", "pager\x1erotation\x1dlegal"]
SEPARATED_CAPABILITIES = [None, "", "on_call", "runbook", "on\x1ecall", "run\x1dbook"]
SEPARATED_SCENARIOS = ["s1", "s2", "s\x1e3", "s\x1d4"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    exercises=st.lists(st.sampled_from(SEPARATED_SCENARIOS), min_size=1, max_size=6),
    findings=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=5),
            st.sampled_from(SEPARATED_CAPABILITIES),
            st.lists(st.sampled_from(SEPARATED_WORDS), max_size=3).map(" ".join),
            st.integers(min_value=0, max_value=4),
        ),
        max_size=30,
    ),
)
def test_separators_inside_values_give_the_same_grouping(
    store: Store, exercises: list[str], findings: list[Any]
) -> None:
    """Scenario ids, capabilities and descriptions holding a separator (so the joined
    reads do not split right and are read again as rows): the same groups."""
    _store(store, exercises, findings)
    expected, got = _both(store)
    assert got == expected


def _row_by_row(store: Store) -> tuple[dict[int, Any], dict[str, set[tuple[str, str]]]]:
    """What :class:`Parsed` gives, computed from every finding's row: per exercise with
    findings, its scenario, capabilities and first time; per scenario, its (number,
    lowered description) pairs."""
    from sqlalchemy import select

    with store.reading() as session:
        scenario_of = dict(session.execute(select(Exercise.id, Exercise.scenario_id)).all())
        rows = session.execute(
            select(Finding.exercise_id, Finding.capability, Finding.created_at, Finding.number)
            .add_columns(Finding.description)
            .where(Finding.exercise_id.is_not(None))
        ).all()
    exercises: dict[int, Any] = {}
    texts: dict[str, set[tuple[str, str]]] = {}
    for exercise_id, capability, created, number, description in rows:
        scenario = scenario_of[exercise_id]
        capabilities, first = exercises.get(exercise_id, (scenario, set(), created))[1:]
        exercises[exercise_id] = (scenario, {*capabilities, capability or ""}, min(first, created))
        texts.setdefault(scenario, set()).add((str(number), description.lower()))
    return exercises, texts


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    exercises=st.lists(st.sampled_from(["s1", "s2", "s3"]), min_size=1, max_size=8),
    findings=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=7),
            st.sampled_from([None, "", "on_call", "runbook", "on\x1ecall"]),
            st.text(alphabet="abcDEF \x1d\x1e\u0130", max_size=12),
            st.integers(min_value=0, max_value=240),
        ),
        max_size=30,
    ),
)
def test_the_joined_reads_parse_as_the_rows_read(
    store: Store, exercises: list[str], findings: list[Any]
) -> None:
    """The one-row reads (:mod:`~drillbook.domain.finding.repeats_read`), split, give each
    exercise's scenario, capabilities and first time, and each scenario's numbered
    descriptions, exactly as reading every finding's row does; on PostgreSQL the first
    time comes back as the aware instant the rows give."""
    from drillbook.domain.finding.repeats_read import Parsed, read_whole

    _store(store, exercises, [(e, c, w, h / 60) for e, c, w, h in findings])
    want_exercises, want_texts = _row_by_row(store)
    with store.reading() as session:
        parsed = Parsed(session, read_whole(session))
        texts = parsed.texts({"s1", "s2", "s3"})
    got = {number: (e.scenario, e.capabilities, e.first) for number, e in parsed.exercises.items()}
    if store.engine.dialect.name == "sqlite":  # the text as stored: compare as times
        got = {
            k: (s, c, datetime.fromisoformat(f).replace(tzinfo=UTC)) for k, (s, c, f) in got.items()
        }
    assert got == want_exercises
    assert {
        sid: {(key, line) for key, line in zip(t.keys, t.text.split("\x1e"), strict=True)}
        for sid, t in texts.items()
    } == {
        sid: {(key, line.replace("\x1e", " ")) for key, line in pairs}
        for sid, pairs in want_texts.items()
    }


def test_the_early_thread_reads_then_waits_for_the_question(store: Store) -> None:
    """The thread makes its reads at once but does its own share only when asked (so it
    never takes turns at the interpreter with the caller's parsing), or when released
    by a caller that stops early: then it finishes on its own."""
    from drillbook.domain.finding import repeats_store

    _store(store, ["s1", "s1"], [(0, "on_call", "pager", 0), (1, "on_call", "pager", 1)])
    calls: list[str] = []
    read, grouped = repeats_store.read_whole, repeats_store.stored_repeated_gaps

    def reading(session: Any) -> Any:
        calls.append("read")
        return read(session)

    def grouping(session: Any, done: Any = None) -> Any:
        calls.append("grouped")
        return grouped(session, done)

    import pytest

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(repeats_store, "read_whole", reading)
        patch.setattr(repeats_store, "stored_repeated_gaps", grouping)
        early = repeats_store.StoredRepeats(store.reading, early=True)
        worker = early._worker
        assert worker is not None
        worker.join(timeout=1)
        assert worker.is_alive()  # waiting for the question
        assert calls == ["read"]
        assert early("s1")[0].runs == 2
        assert calls == ["read", "grouped"]
        released = repeats_store.StoredRepeats(store.reading, early=True)
        assert released._worker is not None
        released.release()
        released._worker.join(timeout=10)
        assert not released._worker.is_alive()
