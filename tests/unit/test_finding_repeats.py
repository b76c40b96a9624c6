"""The findings domain feeds lint's "scenario unchanged while its findings repeat" check."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from drillbook.clock import FakeClock
from drillbook.domain.exercise import service as exercises
from drillbook.domain.finding.repeats import repeated_gaps
from drillbook.domain.finding.service import create_finding
from drillbook.flows.lint_library import lint_library
from drillbook.library.loader import load_scenario_file
from drillbook.storage.engine import Store
from tests.helpers import SEED

SEED_ID = "scenario-2026-q2-001"


def _run_with_gap(store: Store, description: str, capability: str) -> None:
    scenario = load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    with store.session() as session:
        exercise = exercises.create_exercise(session, scenario=scenario, team="sre")
        create_finding(
            session,
            description=description,
            severity="high",
            source="exercise",
            exercise_id=exercise.id,
            capability=capability,
        )


def test_repeated_gaps_group_by_capability_across_runs(store: Store, fake_clock: FakeClock) -> None:
    _run_with_gap(store, "Took 18 minutes to name an incident commander", "on_call")
    fake_clock.advance(timedelta(days=90))
    _run_with_gap(store, "IC rotation still missing", "on_call")
    _run_with_gap(store, "Legal unsure about regulators", "regulator_notification")
    with store.session() as session:
        gaps = repeated_gaps(session, SEED_ID)
        assert repeated_gaps(session, "some-other-scenario") == []
    assert len(gaps) == 1
    assert gaps[0].runs == 2
    assert gaps[0].finding.startswith("F-001")


def test_lint_warns_when_the_scenario_did_not_change(
    tmp_path: Path, sqlite_store: Store, fake_clock: FakeClock
) -> None:
    root = tmp_path / "lib"
    (root / "scenarios").mkdir(parents=True)
    (root / "drillbook.yaml").write_text("organisation: T\n")
    (root / "scenarios" / "mcp.yaml").write_text(
        (SEED / "scenarios" / "data-exfil-via-mcp.yaml").read_text()
    )
    today = date(2026, 5, 1)
    first = lint_library(root, include_builtin=False, today=today, store=sqlite_store)
    assert "findings-repeat" not in {p.code for p in first.problems}
    fake_clock.advance(timedelta(days=1))
    _run_with_gap(sqlite_store, "No IC rotation", "on_call")
    _run_with_gap(sqlite_store, "No IC rotation, again", "on_call")
    again = lint_library(root, include_builtin=False, today=today, store=sqlite_store)
    warned = [p for p in again.problems if p.code == "findings-repeat"]
    assert len(warned) == 1
    assert "repeated in 2 runs" in warned[0].message
    assert warned[0].location.path.endswith("mcp.yaml")


def _pairwise_groups(rows: list[tuple[str, str, str | None, int]]) -> list[tuple[str, int]]:
    """The definition, compared pair by pair: each finding joins the first earlier group
    whose first has its capability or wording with Jaccard >= 0.4."""
    from drillbook.domain.finding.ranking import SIMILARITY, _words

    groups: list[tuple[str, str | None, frozenset[str], set[int]]] = []
    for finding_id, description, capability, exercise in rows:
        words = _words(description)
        for _first, first_capability, first_words, runs in groups:
            same = capability is not None and capability == first_capability
            similar = bool(words and first_words) and (
                len(words & first_words) / len(words | first_words) >= SIMILARITY
            )
            if same or similar:
                runs.add(exercise)
                break
        else:
            groups.append((finding_id, capability, words, {exercise}))
    return [(first, len(runs)) for first, _c, _w, runs in groups if len(runs) > 1]


@settings(max_examples=150)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"])),
            st.sampled_from([None, "on_call", "runbook", "detection"]),
            st.integers(1, 6),
        ),
        max_size=40,
    )
)
def test_grouping_equals_the_pairwise_definition(
    drawn: list[tuple[list[str], str | None, int]],
) -> None:
    """The shortcuts (capability index, shared-word bound) never change a group."""
    from datetime import UTC, datetime

    from drillbook.domain.finding.repeats import _grouped

    moment = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [
        (f"F-{n}", " ".join(words), capability, exercise)
        for n, (words, capability, exercise) in enumerate(drawn, start=1)
    ]
    found = _grouped(
        "s",
        [(fid, text, cap, moment, run, "s", n) for n, (fid, text, cap, run) in enumerate(rows)],
    )
    assert [(r.finding.split(":")[0], r.runs) for r in found] == _pairwise_groups(rows)
