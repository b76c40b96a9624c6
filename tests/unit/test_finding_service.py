"""Findings: sequential ids, SLA due dates, status history, the drill-scorecard contract."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drillbook.clock import FakeClock
from drillbook.domain.finding import service
from drillbook.domain.finding.enums import FindingStatus
from drillbook.domain.program.models import SlaPolicy
from drillbook.errors import ConflictError, NotFoundError, StateError
from drillbook.storage.engine import Store


def _add(store: Store, **kwargs: object) -> str:
    with store.session() as session:
        values: dict[str, object] = {"description": "gap", "severity": "high", "source": "exercise"}
        values.update(kwargs)
        return service.create_finding(session, **values).id  # type: ignore[arg-type]


def test_ids_are_sequential_and_skip_imported_ones(store: Store, fake_clock: FakeClock) -> None:
    assert _add(store) == "F-001"
    assert _add(store, finding_id="F-003") == "F-003"
    assert _add(store) == "F-004"
    with pytest.raises(ConflictError):
        _add(store, finding_id="F-001")
    assert _add(store, finding_id="F-002") == "F-002"
    assert _add(store) == "F-005"


def test_two_concurrent_adds_get_distinct_ids(store: Store, fake_clock: FakeClock) -> None:
    ids: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def add() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                ids.append(_add(store))
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(ids) == [f"F-{n:03d}" for n in range(1, 13)]


@pytest.mark.parametrize(
    ("severity", "days"), [("critical", 7), ("high", 30), ("medium", 90), ("low", 120)]
)
def test_due_date_follows_the_sla(
    store: Store, fake_clock: FakeClock, severity: str, days: int
) -> None:
    with store.session() as session:
        finding = service.create_finding(
            session, description="x", severity=severity, source="drill"
        )
        assert finding.due_date == fake_clock.now().date() + timedelta(days=days)
        custom = service.create_finding(
            session,
            description="y",
            severity=severity,
            source="drill",
            sla=SlaPolicy(**{severity: "2d"}),
        )
        assert custom.due_date == fake_clock.now().date() + timedelta(days=2)
        assert not finding.overdue
        fake_clock.advance(timedelta(days=days + 1))
        assert finding.overdue
        service.set_status(session, finding, "resolved")
        assert not finding.overdue


def test_status_history_and_risk_acceptance(store: Store, fake_clock: FakeClock) -> None:
    fid = _add(store)
    with store.session() as session:
        finding = service.get_finding(session, fid)
        fake_clock.advance(timedelta(days=2))
        service.set_status(session, finding, "in_progress", note="started")
        with pytest.raises(StateError, match="expiry"):
            service.set_status(session, finding, "risk_accepted")
        service.set_status(
            session,
            finding,
            "risk_accepted",
            note="compensating control",
            expires=fake_clock.now().date() + timedelta(days=10),
        )
        assert not finding.is_active
        fake_clock.advance(timedelta(days=11))
        assert finding.is_active  # expired acceptance is owed work again
        assert [(e.from_status, e.to_status) for e in finding.status_changes] == [
            (None, "open"),
            ("open", "in_progress"),
            ("in_progress", "risk_accepted"),
        ]
    with store.session() as session:
        with pytest.raises(StateError, match="unknown status"):
            service.set_status(session, service.get_finding(session, fid), "done")
        with pytest.raises(NotFoundError):
            service.get_finding(session, "F-999")


def test_guesses_are_marked_inferred_and_user_values_win(
    store: Store, fake_clock: FakeClock
) -> None:
    with store.session() as session:
        guessed = service.create_finding(
            session,
            description="No on-call rotation for incident commander role.",
            severity="high",
            source="exercise",
            proposed_remediation="Establish a primary + backup IC rotation",
        )
        assert guessed.capability == "on_call"
        assert guessed.change_type == "policy"
        assert set(guessed.inferred) == {"capability", "change_type"}
        service.update_fields(session, guessed, {"change_type": "training"})
        assert guessed.change_type == "training"
        assert guessed.inferred == ["capability"]
        with pytest.raises(StateError, match="unknown capability"):
            service.create_finding(
                session, description="x", severity="low", source="drill", capability="teleport"
            )


def test_detection_contract(store: Store, fake_clock: FakeClock) -> None:
    """What the drill scorecard code relies on."""
    with store.session() as session:
        finding = service.create_finding(
            session,
            description="rule muted",
            severity="high",
            source="drill",
            source_ref="drill-results/2026-04-29-purple-team.yaml",
            rule="rules/aws/iam-user-creation.yml",
            technique="aws.persistence.iam-create-user-login-profile",
            target_date=date(2026, 6, 1),
        )
        found = service.find_open_for_detection(
            session,
            rule="rules/aws/iam-user-creation.yml",
            technique="aws.persistence.iam-create-user-login-profile",
        )
        assert found is not None
        assert found.id == finding.id
        service.add_evidence(session, finding, text="still not firing", source_ref="run-2")
        assert [e.text for e in finding.evidence] == ["still not firing"]
        service.mark_verified(session, finding, note="fired in drill 3", source_ref="run-3")
        assert finding.status == FindingStatus.VERIFIED
        assert len(finding.evidence) == 2
        assert (
            service.find_open_for_detection(
                session,
                rule="rules/aws/iam-user-creation.yml",
                technique="aws.persistence.iam-create-user-login-profile",
            )
            is None
        )


def test_list_filters(store: Store, fake_clock: FakeClock) -> None:
    _add(store, severity="critical", owner="platform-team")
    _add(store, severity="low", owner="legal")
    with store.session() as session:
        assert [f.id for f in service.list_findings(session, severity="critical")] == ["F-001"]
        assert [f.id for f in service.list_findings(session, owner="legal")] == ["F-002"]
        fake_clock.advance(timedelta(days=8))
        assert [f.id for f in service.list_findings(session, overdue=True)] == ["F-001"]
        service.set_status(
            session,
            service.get_finding(session, "F-002"),
            "risk_accepted",
            note="legal owns it",
            expires=fake_clock.now().date() + timedelta(days=5),
        )
        assert [f.id for f in service.list_findings(session, active=True)] == ["F-001"]
        assert [f.id for f in service.list_findings(session, active=False)] == ["F-002"]
        fake_clock.advance(timedelta(days=6))  # the acceptance expired: owed work again
        assert [f.id for f in service.list_findings(session, active=True)] == ["F-001", "F-002"]
        assert service.list_findings(session, active=False) == []
        service.set_status(session, service.get_finding(session, "F-001"), "resolved")
        assert service.list_findings(session, overdue=True) == []


@given(st.text(max_size=20))
def test_parse_id_accepts_only_finding_ids(text: str) -> None:
    try:
        number = service.parse_id(text)
    except NotFoundError:
        return
    assert service.format_id(number).lower() == f"f-{number:03d}"
    assert text.strip().upper().startswith("F-")
