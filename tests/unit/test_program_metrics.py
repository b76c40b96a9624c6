"""Metrics and failure-mode signals over a constructed year, checked against values
worked out by hand (see tests/program_year.py for what happened when)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drillbook.clock import FakeClock
from drillbook.domain.program.periods import parse_quarter, quarter, quarter_of, span
from drillbook.errors import StateError
from drillbook.flows.program import program_metrics
from drillbook.storage.engine import Store
from tests.program_year import TODAY, build_year

YEAR = span([quarter(2026, n) for n in (1, 2, 3, 4)])


def _by_team(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["team"]: row for row in data["teams"]}


def _signals(data: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    return [(s["kind"], s["team"], s["subject"]) for s in data["signals"]]


def test_a_year_of_history_gives_the_hand_computed_figures(
    store: Store, fake_clock: FakeClock
) -> None:
    lib = build_year(store, fake_clock)
    with store.session() as session:
        data = program_metrics(session, lib, YEAR, today=TODAY).as_dict()
    teams = _by_team(data)
    assert {t: (r["tabletops"], r["drills"]) for t, r in teams.items()} == {
        "alpha": (3, 1),
        "beta": (3, 0),
        "gamma": (1, 2),  # the planned Q4 tabletop never ran: not counted
    }
    assert {t: (r["findings_opened"], r["findings_closed"]) for t, r in teams.items()} == {
        "alpha": (3, 2),
        "beta": (3, 3),
        "gamma": (3, 1),
    }
    assert {t: r["closure_rate"] for t, r in teams.items()} == {
        "alpha": 0.6667,
        "beta": 1.0,
        "gamma": 0.3333,
    }
    assert {t: r["overdue"] for t, r in teams.items()} == {"alpha": 1, "beta": 0, "gamma": 2}
    assert data["totals"]["findings_opened"] == 9
    ttc = {k: (v["n"], v["median"], v["p90"]) for k, v in data["time_to_close_days"].items()}
    assert ttc == {
        "critical": (1, 4.0, 4.0),
        "high": (2, 10.0, 16.0),
        "medium": (2, 30.0, 45.0),
        "low": (1, 10.0, 10.0),
    }
    assert data["overdue_by_severity"] == {"critical": 0, "high": 2, "medium": 1, "low": 0}
    detection = {
        d["quarter"]: (
            d["checks"],
            d["pass_rate"],
            d["time_to_alert_seconds"]["median"],
            d["time_to_alert_seconds"]["p90"],
            d["acknowledgement_seconds"]["median"],
            d["acknowledgement_seconds"]["p90"],
        )
        for d in data["detection"]
    }
    assert detection == {
        "2026-Q1": (2, 0.5, 60.0, 60.0, 300.0, 300.0),
        "2026-Q2": (3, 1.0, 90.0, 120.0, 120.0, 600.0),
        "2026-Q3": (1, 0.0, None, None, None, None),
    }


def test_each_signal_is_raised_exactly_where_it_was_planted(
    store: Store, fake_clock: FakeClock
) -> None:
    lib = build_year(store, fake_clock)
    with store.session() as session:
        data = program_metrics(session, lib, YEAR, today=TODAY).as_dict()
    assert _signals(data) == [
        ("theatre", "alpha", "agent-wrong-team-exposure-gentle"),
        ("repeat", "beta", "approval_gates"),
        ("repeat", "gamma", "R1 @ T1059.004"),
        ("unfilled_role", "beta", "comms_lead"),
        ("onboarding", "alpha", "nora"),
        ("stale_scenario", None, "old-drill"),
        ("past_sla", "alpha", "alpha"),
        ("past_sla", "gamma", "gamma"),
    ]
    evidence = {(s["kind"], s["subject"]): s["evidence"] for s in data["signals"]}
    assert evidence[("theatre", "agent-wrong-team-exposure-gentle")] == [
        "EX-1",
        "EX-4",
        "F-001",
        "F-003",
    ]
    assert evidence[("repeat", "approval_gates")] == ["F-005", "F-006"]
    assert evidence[("repeat", "R1 @ T1059.004")] == ["F-008", "F-009"]
    assert evidence[("unfilled_role", "comms_lead")] == ["EX-5", "EX-7"]
    assert evidence[("onboarding", "nora")] == ["drillbook.yaml people: nora", "EX-2"]
    assert evidence[("stale_scenario", "old-drill")] == ["scenarios/old-drill.yaml"]
    assert evidence[("past_sla", "gamma")] == ["F-007", "F-009"]
    sla = next(s for s in data["signals"] if s["kind"] == "past_sla" and s["team"] == "alpha")
    assert "escalate to erin" in sla["message"]


def test_one_quarter_counts_only_what_happened_in_it(store: Store, fake_clock: FakeClock) -> None:
    lib = build_year(store, fake_clock)
    with store.session() as session:
        q1 = program_metrics(session, lib, parse_quarter("2026-Q1"), today=TODAY).as_dict()
        q2_beta = program_metrics(
            session, lib, parse_quarter("2026-Q2"), team="beta", today=TODAY
        ).as_dict()
    teams = _by_team(q1)
    # F-008 (gamma) was opened in Q1 but closed in Q2: opened, not closed by the end of Q1.
    assert {t: (r["findings_opened"], r["closed_of_opened"]) for t, r in teams.items()} == {
        "alpha": (2, 2),
        "beta": (1, 1),
        "gamma": (2, 0),
    }
    # The theatre's second run and nora's window end are in Q2, not Q1; old-drill was
    # 89 days from its review at the end of Q1, not yet stale.
    assert [s[0] for s in _signals(q1)] == ["past_sla", "past_sla"]
    assert [t["team"] for t in q2_beta["teams"]] == ["beta"]
    assert _signals(q2_beta) == [("stale_scenario", None, "old-drill")]


@given(st.integers(min_value=1, max_value=9998), st.integers(min_value=1, max_value=4))
def test_quarters_parse_back_from_their_labels(year: int, number: int) -> None:
    period = quarter(year, number)
    assert parse_quarter(period.label) == period
    assert parse_quarter(f" {year:04d}q{number} ") == period
    assert quarter_of(period.start) == period
    assert quarter_of(period.end - (period.end - period.start) // 2) == period


@pytest.mark.parametrize("text", ["2026-Q5", "Q3", "2026-3", "", "2026-Q3x"])
def test_a_bad_quarter_says_how_to_write_one(text: str) -> None:
    with pytest.raises(StateError, match="YYYY-Qn"):
        parse_quarter(text)
