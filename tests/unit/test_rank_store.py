"""``finding rank`` through the database ranks exactly as scoring every finding does."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select

from drillbook.domain.finding import rank_store
from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.rank_store import rank_stored
from drillbook.domain.finding.ranking import (
    RankedFinding,
    coverage_points,
    rank_findings,
    scenario_coverage,
    source_key,
)
from drillbook.domain.finding.service import list_findings
from drillbook.domain.scenario.models import Scenario
from drillbook.storage.engine import Store
from tests.helpers import quiet_scenario

TODAY = date(2026, 8, 1)
MIDNIGHT = datetime.combine(TODAY, time(), tzinfo=UTC)
# the last holds the separator the database joins descriptions with: read row by row
WORDS = ["pager", "rotation", "legal", "regulator", "runbook", "stale", "wiki", "to\x1eken"]
CAPABILITIES = [None, "", "on_call", "runbook", "detection", "regulator_notification"]


def _scenario(sid: str, category: str) -> Scenario:
    stale = "The pager rotation is stale; legal asks about the regulator."
    return quiet_scenario(sid, category, stale)


SCENARIOS = [_scenario("a", "insider"), _scenario("b", "denial_of_service")]

finding_rows = st.lists(
    st.tuples(
        st.sampled_from(CAPABILITIES),
        st.lists(st.sampled_from(WORDS), max_size=4).map(" ".join),
        st.one_of(
            # ids of one and more digits: "EX-10" sorts before "EX-2"
            st.sampled_from([1, 2, 3, 5, 9, 10, 12, 20, 100, 105]).map(
                lambda n: ("exercise", None, n)
            ),
            st.sampled_from(["d-1", "d-2", "", None]).map(lambda ref: ("drill", ref, None)),
        ),
        st.sampled_from(["critical", "high", "medium", "low"]),
        st.sampled_from(["open", "in_progress", "resolved", "risk_accepted"]),
        # days before today, and seconds before that day's midnight: age bucket edges
        st.integers(min_value=0, max_value=200),
        st.sampled_from([0, 1, 3600 * 12]),
        st.sampled_from(["sre", "legal"]),
    ),
    min_size=1,
    max_size=40,
)


def _store_rows(store: Store, drawn: list[Any]) -> None:
    rows = []
    for number, (cap, words, (source, ref, exercise), sev, status, days, back, team) in enumerate(
        drawn, start=1
    ):
        created = MIDNIGHT - timedelta(days=days, seconds=back)
        rows.append(
            {
                "id": f"F-{number:03d}",
                "number": number,
                "severity": sev,
                "description": words or f"gap {number}",
                "status": status,
                "capability": cap,
                "source": source,
                "source_ref": ref,
                "exercise_id": exercise,
                "team": team,
                # every other accepted risk has expired (owed again)
                "risk_expires": TODAY - timedelta(days=1 - number % 2 * 2)
                if status == "risk_accepted"
                else None,
                "created_at": created,
                "updated_at": created,
                "extra": {},
            }
        )
    with store.engine.begin() as connection:
        connection.execute(delete(Finding.__table__))
        if rows:
            connection.execute(insert(Finding.__table__), rows)


def _shown(ranked: list[RankedFinding]) -> list[tuple[Any, ...]]:
    return [
        (
            r.finding.id,
            r.score,
            r.recurrences,
            r.recurred_in,
            r.scenarios_covering,
            r.age_days,
            *(r.terms[name] for name in ("recurrence", "coverage", "severity", "age")),
        )
        for r in ranked
    ]


@pytest.mark.parametrize("scan_most", [0, 64])
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    drawn=finding_rows,
    limit=st.sampled_from([None, 1, 3, 8]),
    team=st.sampled_from([None, "sre"]),
)
def test_stored_ranking_equals_scoring_every_finding(
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    scan_most: int,
    drawn: list[Any],
    limit: int | None,
    team: str | None,
) -> None:
    """Random backlogs on both databases: the rows the database picks, and the sources
    read through the joined text (or, past ``SCAN_MOST`` rows, in memory), give the same
    ranking as :func:`rank_findings` over every ORM finding."""
    from drillbook import clock

    monkeypatch.setattr(rank_store, "SCAN_MOST", scan_most)
    _store_rows(store, drawn)
    fake = clock.FakeClock(MIDNIGHT + timedelta(hours=15))
    with clock.use_clock(fake), store.reading() as session:
        history = list_findings(session)
        wanted = [f for f in history if f.is_active and (team is None or f.team == team)]
        every = rank_findings(wanted, history, SCENARIOS, TODAY)
        expected = _shown(every[:limit])
        got = _shown(rank_stored(session, SCENARIOS, TODAY, team=team, limit=limit))
        # the database's part of each score (what it orders by) is Python's, exactly
        points = rank_store.score_hundredths(
            coverage_points(scenario_coverage(SCENARIOS), len(SCENARIOS)), TODAY
        )
        in_sql = dict(session.execute(select(Finding.id, points)).all())
        in_python = {
            row.finding.id: round(
                100 * (row.terms["coverage"] + row.terms["severity"] + row.terms["age"])
            )
            for row in every
        }
    assert got == expected
    assert {key: in_sql[key] for key in in_python} == in_python


def test_settled_fixes_are_ordered_by_the_database(store: Store) -> None:
    """Past the recurrence cap the database orders the fixes; one unsettled fix with a
    high best case is still read and scored."""
    drawn = [
        ("on_call", "pager", ("exercise", None, n), "low", "open", 10 * n, 0, "sre")
        for n in range(1, 8)
    ]
    drawn += [
        # its capability came back once (unsettled), its wording five times
        ("runbook", "stale pager", ("exercise", None, 1), "critical", "open", 190, 0, "sre"),
        ("runbook", "wiki", ("exercise", None, 2), "medium", "resolved", 3, 0, "sre"),
    ]
    _store_rows(store, drawn)
    with store.reading() as session:
        history = list_findings(session)
        expected = _shown(
            rank_findings([f for f in history if f.is_active], history, SCENARIOS, TODAY, limit=2)
        )
        got = _shown(rank_stored(session, SCENARIOS, TODAY, limit=2))
    assert got == expected
    assert got[0][:3] == ("F-008", got[0][1], 6)  # EX-2 by capability, EX-3..7 by wording


def test_an_unsettled_fix_tied_with_the_last_settled_one_is_read(store: Store) -> None:
    """The fix whose capability came back once but whose wording came back in five
    runs ties with the settled fix at its best case; the lower number ranks first."""
    drawn = [("runbook", "pager", ("exercise", None, 1), "low", "open", 0, 0, "sre")]
    drawn += [
        ("on_call", "pager", ("exercise", None, n), "low", "open", 0, 0, "sre")
        for n in range(3, 10)
    ]
    drawn.append(("runbook", "wiki", ("exercise", None, 2), "low", "resolved", 0, 0, "sre"))
    _store_rows(store, drawn)
    with store.reading() as session:
        got = _shown(rank_stored(session, [], TODAY, limit=1))
    assert got == [
        ("F-001", 17.0, 8, ("EX-2", "EX-3", "EX-4", "EX-5", "EX-6"), 0, 0, 15.0, 0.0, 2.0, 0.0)
    ]


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    runs=st.lists(
        st.tuples(
            st.sampled_from(["on_call", "runbook"]),
            st.one_of(
                st.integers(min_value=10, max_value=30),  # more than a probe reads
                st.integers(min_value=95, max_value=130),  # across a length
                st.integers(min_value=-3, max_value=3000),
                st.none(),
            ),
            st.sampled_from(["drill", "incident"]),
        ),
        min_size=10,
        max_size=60,
    )
)
def test_first_runs_of_a_capability_in_text_order(store: Store, runs: list[Any]) -> None:
    """The first runs of each capability, read per id length from the index, are the
    first of all its runs sorted as text."""
    drawn = [
        (
            capability,
            "gap",
            ("exercise", None, exercise) if exercise is not None else (source, f"r{n % 7}", None),
            "low",
            "open",
            0,
            0,
            "sre",
        )
        for n, (capability, exercise, source) in enumerate(runs)
    ]
    _store_rows(store, drawn)
    expected: dict[str, set[str]] = {"on_call": set(), "runbook": set()}
    with store.reading() as session:
        for finding in list_findings(session):
            expected[str(finding.capability)].add(source_key(finding))
        got = rank_store.first_sources(session, ["on_call", "runbook"])
    assert got == {cap: sorted(keys)[:6] for cap, keys in expected.items()}
