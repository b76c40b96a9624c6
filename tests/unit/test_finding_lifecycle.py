"""The finding lifecycle: the transition table, required reasons, expiring risk
acceptance, and a property walk that checks the history replays to the status."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drillbook.clock import FakeClock
from drillbook.domain.finding import lifecycle, service
from drillbook.domain.finding.enums import FindingStatus
from drillbook.domain.finding.hygiene import backlog_problems
from drillbook.errors import StateError
from drillbook.storage.engine import Store

TODAY = date(2026, 3, 1)
ALL = list(FindingStatus)


def _legal(current: FindingStatus) -> set[FindingStatus]:
    return {m.target for m in lifecycle.allowed_from(current)}


@pytest.mark.parametrize("current", ALL)
@pytest.mark.parametrize("target", ALL)
def test_every_illegal_transition_is_refused_naming_the_allowed(
    current: FindingStatus, target: FindingStatus
) -> None:
    expires = TODAY + timedelta(days=30) if target == FindingStatus.RISK_ACCEPTED else None
    if target in _legal(current):
        move = lifecycle.check_transition(
            current, target, reason="because", expires=expires, today=TODAY
        )
        assert move.target == target
        return
    with pytest.raises(StateError) as refused:
        lifecycle.check_transition(
            current, target, reason="because", expires=expires, today=TODAY, finding_id="F-007"
        )
    message = str(refused.value)
    assert "F-007" in message
    for allowed in _legal(current):
        assert str(allowed) in message.split("can move to:")[1]


def test_the_table_says_what_the_issue_asks() -> None:
    assert _legal(FindingStatus.RESOLVED) >= {FindingStatus.VERIFIED, FindingStatus.OPEN}
    assert FindingStatus.RESOLVED not in _legal(FindingStatus.VERIFIED)
    assert FindingStatus.VERIFIED not in _legal(FindingStatus.WONT_DO)


@pytest.mark.parametrize(
    ("current", "target", "words"),
    [
        ("resolved", "open", "reopening"),
        ("verified", "in_progress", "reopening"),
        ("wont_do", "open", "reopening"),
        ("open", "wont_do", "ending without verification"),
        ("open", "risk_accepted", "accepting a risk"),
        ("in_progress", "verified", "verifying without a shipped fix"),
    ],
)
def test_reasons_are_required(current: str, target: str, words: str) -> None:
    expires = TODAY + timedelta(days=5) if target == "risk_accepted" else None
    for blank in (None, "", "   "):
        with pytest.raises(StateError, match=f"{words}.*needs a reason"):
            lifecycle.check_transition(current, target, reason=blank, expires=expires, today=TODAY)
    lifecycle.check_transition(current, target, reason="ok", expires=expires, today=TODAY)


def test_risk_acceptance_needs_a_future_expiry() -> None:
    with pytest.raises(StateError, match="expiry date"):
        lifecycle.check_transition("open", "risk_accepted", reason="x", expires=None, today=TODAY)
    with pytest.raises(StateError, match="not in the future"):
        lifecycle.check_transition("open", "risk_accepted", reason="x", expires=TODAY, today=TODAY)
    with pytest.raises(StateError, match="only applies"):
        lifecycle.check_transition("open", "resolved", reason=None, expires=TODAY, today=TODAY)


def test_expired_risk_reopens_by_itself(sqlite_store: Store, fake_clock: FakeClock) -> None:
    with sqlite_store.session() as session:
        finding = service.create_finding(session, description="gap", severity="low", source="drill")
        service.set_status(
            session,
            finding,
            "risk_accepted",
            note="compensating control",
            expires=fake_clock.now().date() + timedelta(days=3),
            author="ciso",
        )
        assert lifecycle.reopen_expired_risks(session, fake_clock.now().date()) == []
        fake_clock.advance(timedelta(days=4))
        assert [f.id for f in lifecycle.reopen_expired_risks(session, fake_clock.now().date())] == [
            finding.id
        ]
        assert finding.status == "open"
        last = finding.status_changes[-1]
        assert (last.from_status, last.to_status, last.author) == (
            "risk_accepted",
            "open",
            "drillbook",
        )
        assert "expired" in (last.text or "")
        assert lifecycle.reopen_expired_risks(session, fake_clock.now().date()) == []
        assert lifecycle.replay(finding.history) == FindingStatus.OPEN


def test_backlog_problems(sqlite_store: Store, fake_clock: FakeClock) -> None:
    with sqlite_store.session() as session:
        bare = service.create_finding(session, description="a", severity="critical", source="drill")
        late = service.create_finding(
            session,
            description="b",
            severity="critical",
            source="drill",
            owner="sre",
            target_date=fake_clock.now().date() + timedelta(days=60),
        )
        fine = service.create_finding(
            session,
            description="c",
            severity="low",
            source="drill",
            owner="sre",
            target_date=fake_clock.now().date() + timedelta(days=10),
        )
        found = {(p.finding_id, p.code) for p in backlog_problems([bare, late, fine])}
        assert found == {
            (bare.id, "no-owner"),
            (bare.id, "no-target-date"),
            (late.id, "target-past-sla"),
        }
        service.set_status(session, bare, "wont_do", note="out of scope")
        assert [p.finding_id for p in backlog_problems([bare])] == []


_steps = st.lists(
    st.tuples(st.sampled_from(ALL), st.booleans(), st.integers(min_value=-2, max_value=40)),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=_steps)
def test_random_walks_replay_to_the_current_status(
    sqlite_store: Store, fake_clock: FakeClock, steps: list[tuple[FindingStatus, bool, int]]
) -> None:
    with sqlite_store.session() as session:
        finding = service.create_finding(
            session, description="walk", severity="high", source="drill"
        )
        for target, give_reason, days in steps:
            fake_clock.advance(timedelta(hours=1))
            current = FindingStatus(finding.status)
            expires = fake_clock.now().date() + timedelta(days=days) if days else None
            reason = "why not" if give_reason else None
            move = next((m for m in lifecycle.allowed_from(current) if m.target == target), None)
            expected_ok = (
                move is not None
                and (not move.needs_reason or give_reason)
                and (
                    (expires is not None and expires > fake_clock.now().date())
                    if target == FindingStatus.RISK_ACCEPTED
                    else expires is None
                )
            )
            before = len(finding.history)
            if not expected_ok:
                with pytest.raises(StateError) as refused:
                    service.set_status(
                        session, finding, str(target), note=reason, expires=expires, author="w"
                    )
                assert len(finding.history) == before
                if move is None:
                    assert lifecycle.describe_allowed(current) in str(refused.value)
                continue
            service.set_status(
                session, finding, str(target), note=reason, expires=expires, author="walker"
            )
            assert finding.status == target
            assert len(finding.history) == before + 1
        assert lifecycle.replay(finding.history) == FindingStatus(finding.status)
        session.rollback()


def test_followup_verifies_tabletop_findings_only(sqlite_store: Store) -> None:
    from drillbook.flows.followup import verify_at_followup

    with sqlite_store.session() as session:
        tabletop = service.create_finding(
            session, description="no IC rotation", severity="high", source="exercise"
        )
        drill = service.create_finding(
            session, description="rule did not fire", severity="high", source="drill"
        )
        with pytest.raises(StateError, match="needs --note"):
            verify_at_followup(session, [tabletop.id], note=None)
        with pytest.raises(StateError, match="a passing drill verifies it"):
            verify_at_followup(session, [drill.id], note="looked fine")
        assert verify_at_followup(session, [tabletop.id], note="re-run inject", author="lee") == [
            tabletop.id
        ]
        assert tabletop.status == "verified"
        assert "follow-up: re-run inject" in (tabletop.status_changes[-1].text or "")


def test_cli_show_history_problems_and_export(
    tmp_path: Path, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from typer.testing import CliRunner

    from drillbook.cli.main import app

    root = tmp_path / "lib"
    root.mkdir()
    (root / "drillbook.yaml").write_text("organisation: Acme\nsla: {high: 10d}\n", "utf-8")
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["-L", str(root), *args])
        return result.exit_code, result.output

    assert run("finding", "add", "-d", "no rotation", "-s", "high")[0] == 0
    code, out = run("finding", "close", "F-001", "--as", "wont_do")
    assert code == 1
    assert "ending without verification" in out
    assert "needs a reason" in out
    code, out = run("finding", "update", "F-001", "--status", "verified", "--note", "x")
    assert code == 0
    code, out = run("finding", "update", "F-001", "--status", "resolved")
    assert code == 1
    assert "from verified it can move to: open (with a reason)" in " ".join(out.split())
    code, out = run(
        "finding", "update", "F-001", "--status", "open", "--note", "came back", "--by", "kim"
    )
    assert code == 0
    code, out = run("finding", "show", "F-001", "--json")
    history = json.loads(out)["history"]
    assert [(h["from"], h["to"], h["author"], h["text"]) for h in history][-1] == (
        "verified",
        "open",
        "kim",
        "came back",
    )
    code, out = run("finding", "show", "F-001")
    assert "came back" in out
    assert "kim" in out
    code, out = run("finding", "list", "--problems", "--json")
    assert code == 1
    assert {p["code"] for p in json.loads(out)} == {"no-owner", "no-target-date"}
    run("finding", "update", "F-001", "--owner", "sre", "--target-date", "2099-01-01")
    code, out = run("finding", "list", "--problems")
    assert code == 1
    assert "past the high SLA" in out
    run("finding", "update", "F-001", "--target-date", str(fake_clock.now().date()))
    assert run("finding", "list", "--problems")[0] == 0


def test_exported_entry_carries_the_history(sqlite_store: Store, fake_clock: FakeClock) -> None:
    from drillbook.domain.finding.documents import FindingEntry, entry_differences, finding_entry

    with sqlite_store.session() as session:
        finding = service.create_finding(
            session, description="gap", severity="low", source="exercise", author="ann"
        )
        assert "history" not in finding_entry(finding)  # only "opened": nothing to say
        fake_clock.advance(timedelta(days=1))
        service.set_status(session, finding, "wont_do", note="tool retired", author="bo")
        entry = finding_entry(finding)
        assert entry["history"][-1] == {
            "at": fake_clock.now(),
            "by": "bo",
            "from": "open",
            "to": "wont_do",
            "why": "tool retired",
        }
        parsed = FindingEntry.model_validate(entry)  # the document schema accepts it
        assert parsed.history[-1].from_ == FindingStatus.OPEN
        assert entry_differences(finding, parsed) == []  # import does not compare it
