"""Ranking by likelihood of reuse, on a constructed history whose order is known."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import cast

from drillbook.clock import FakeClock
from drillbook.domain.finding.classify import scenario_capabilities
from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.ranking import rank_findings
from drillbook.domain.scenario.models import Scenario
from drillbook.library.loader import load_scenario_file
from drillbook.storage.engine import Store
from tests.helpers import SEED, quiet_scenario

TODAY = date(2026, 8, 1)


def _scenario(sid: str, category: str) -> Scenario:
    return quiet_scenario(sid, category)


def _finding(
    fid: str,
    severity: str,
    capability: str | None,
    *,
    exercise: int | None = None,
    source_ref: str | None = None,
    age_days: int = 0,
    description: str = "gap",
    change_type: str = "policy",
) -> Finding:
    created = datetime.combine(TODAY - timedelta(days=age_days), datetime.min.time(), UTC)
    return Finding(
        id=fid,
        number=int(fid[2:]),
        severity=severity,
        description=description,
        status="open",
        capability=capability,
        source="exercise" if exercise else "drill",
        source_ref=source_ref,
        exercise_id=exercise,
        change_type=change_type,
        created_at=created,
        extra={},
    )


def test_mapping_of_the_seed_scenario() -> None:
    mcp = load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    capabilities = {str(c) for c in scenario_capabilities(mcp)}
    assert {
        "on_call",
        "runbook",
        "regulator_notification",
        "customer_comms",
        "change_review",
    } <= capabilities


def test_constructed_history_ranks_in_the_expected_order() -> None:
    mcp = load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    scenarios = [
        mcp,
        _scenario("a", "insider"),
        _scenario("b", "denial_of_service"),
        _scenario("c", "other"),
    ]
    # B: medium on-call gap that also came up in two other runs (EX-2 and a drill)
    b = _finding("F-010", "medium", "on_call", exercise=1, change_type="training")
    a = _finding("F-011", "critical", "runbook", exercise=1)  # first time; all scenarios
    c = _finding(
        "F-012",
        "high",
        "regulator_notification",
        exercise=1,
        age_days=95,
        change_type="configuration",
    )  # 1 of 4 scenarios, 3 months old
    d = _finding("F-013", "low", None, exercise=1, description="typo in the wiki")
    history = [
        a,
        b,
        c,
        d,
        _finding("F-001", "high", "on_call", exercise=2, description="no IC"),
        _finding("F-002", "low", "on_call", source_ref="drill-7", description="pager"),
        # same source as B: does not count as a recurrence
        _finding("F-003", "low", "on_call", exercise=1, description="late page"),
    ]
    ranked = rank_findings([a, b, c, d], history, scenarios, TODAY)
    assert [r.finding.id for r in ranked] == ["F-010", "F-011", "F-012", "F-013"]
    top = ranked[0]
    assert top.recurrences == 2
    assert top.recurred_in == ("EX-2", "drill:drill-7")
    assert top.terms == {"recurrence": 6.0, "coverage": 10.0, "severity": 4.0, "age": 0.0}
    assert top.score == 20.0
    assert ranked[2].terms == {"recurrence": 0.0, "coverage": 2.5, "severity": 6.0, "age": 3.0}
    assert "recurred 2×" in top.why
    assert "4/4 scenarios exercise on_call" in top.why
    assert [r.change_type for r in ranked] == ["training", "policy", "configuration", "policy"]


def test_similar_wording_counts_as_recurrence_without_a_capability() -> None:
    one = _finding(
        "F-001",
        "low",
        None,
        exercise=1,
        description="Legal could not find the regulator notification timeline",
    )
    two = _finding(
        "F-002",
        "low",
        None,
        exercise=2,
        description="Legal could not find the notification timeline for regulator",
    )
    other = _finding("F-003", "low", None, exercise=3, description="Pager app was muted")
    ranked = rank_findings([one], [one, two, other], [], TODAY)
    assert ranked[0].recurred_in == ("EX-2",)


def test_plain_rows_rank_as_the_stored_findings_do(store: Store, fake_clock: FakeClock) -> None:
    """`finding rank` reads plain rows (candidates, source tuples) on both databases and
    ranks exactly as the ORM findings do: same order, scores, sources and ages."""
    from drillbook.domain.finding.rows import rank_rows
    from drillbook.domain.finding.service import create_finding, list_findings, set_status

    texts = ["pager rotation missing", "pager rotation still missing", "legal unsure", ""]
    with store.session() as session:
        for n in range(24):
            finding = create_finding(
                session,
                description=texts[n % 4] or f"gap {n}",
                severity=("critical", "high", "medium", "low")[n % 4],
                source=("exercise", "drill", "incident")[n % 3],
                source_ref=None if n % 5 == 0 else f"run-{n % 7}",
                capability=(None, "on_call", "runbook")[n % 3],
                team=("sre", "legal")[n % 2],
            )
            if n % 6 == 0:
                set_status(session, finding, "resolved", note="done")
        fake_clock.advance(timedelta(days=45, hours=7))
    today = fake_clock.now().date()
    for team in (None, "sre"):
        with store.session() as session:
            found = list_findings(session)
            expected = rank_findings(
                [f for f in found if f.is_active and (team is None or f.team == team)],
                found,
                [],
                today,
            )
            want = [(r.finding.id, r.score, r.recurred_in, r.age_days, r.terms) for r in expected]
        with store.reading() as session:
            candidates, sources = rank_rows(session, team=team)
            got = rank_findings(cast(list[Finding], candidates), sources, [], today)
        assert [(r.finding.id, r.score, r.recurred_in, r.age_days, r.terms) for r in got] == want
        assert got
