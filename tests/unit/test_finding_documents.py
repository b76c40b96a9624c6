"""The seed's findings document: import, export, idempotence, conflicts, bad files."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drillbook.clock import FakeClock
from drillbook.documents.yaml_io import load_text, to_plain
from drillbook.domain.exercise.service import get_exercise
from drillbook.domain.finding import service
from drillbook.errors import LibraryError
from drillbook.flows.exercise_findings import export_text, import_document, read_document
from drillbook.storage.engine import Store
from tests.helpers import SEED

SEED_DOC = SEED / "findings" / "scenario-2026-q2-001-run-2026-04-29.yaml"


def _plain(text: str) -> object:
    return to_plain(load_text(text))


def test_seed_imports_and_exports_equivalent_yaml(store: Store, fake_clock: FakeClock) -> None:
    fake_clock.advance(timedelta(days=40))  # imported well after the run
    with store.session() as session:
        result = import_document(session, SEED_DOC)
        assert result.created == ["F-001", "F-002", "F-003"]
        assert result.conflicts == []
        f2 = service.get_finding(session, "F-002")
        # the seed's plain multi-line scalar folds into one line
        assert f2.proposed_remediation == (
            "Document MCP server safe-shutdown procedure; test procedure in next chaos drill."
        )
        # the SLA clock starts on the run date in the document, not on the import day
        assert f2.due_date == date(2026, 5, 6)  # critical: 7 days from 2026-04-29
        assert service.get_finding(session, "F-001").due_date == date(2026, 5, 29)  # high: 30
        assert f2.status == "open"
        guessed = [service.get_finding(session, f"F-00{n}").capability for n in (1, 2, 3)]
        assert guessed == ["on_call", "runbook", "regulator_notification"]
        exercise = get_exercise(session, result.exercise)
        relative, text = export_text(session, exercise)
    assert relative == "findings/scenario-2026-q2-001-run-2026-04-29.yaml"
    assert _plain(text) == _plain(SEED_DOC.read_text(encoding="utf-8"))


def test_import_is_idempotent_and_reports_conflicts(
    store: Store, fake_clock: FakeClock, tmp_path: Path
) -> None:
    with store.session() as session:
        import_document(session, SEED_DOC)
    with store.session() as session:
        again = import_document(session, SEED_DOC)
    assert again.created == []
    assert again.unchanged == ["F-001", "F-002", "F-003"]
    assert again.conflicts == []
    assert not again.exercise_created

    changed = tmp_path / SEED_DOC.name
    changed.write_text(
        SEED_DOC.read_text(encoding="utf-8").replace("owner: legal", "owner: legal-ops"),
        encoding="utf-8",
    )
    with store.session() as session:
        clash = import_document(session, changed)
        assert len(clash.conflicts) == 1
        assert clash.conflicts[0].startswith("F-003: owner")
        assert service.get_finding(session, "F-003").owner == "legal"  # not overwritten


def test_unpadded_ids_are_the_same_finding(
    store: Store, fake_clock: FakeClock, tmp_path: Path
) -> None:
    short = tmp_path / SEED_DOC.name
    short.write_text(
        SEED_DOC.read_text(encoding="utf-8").replace("id: F-001", "id: F-1"), encoding="utf-8"
    )
    with store.session() as session:
        assert import_document(session, short).created == ["F-001", "F-002", "F-003"]
    with store.session() as session:
        again = import_document(session, short)
    assert again.unchanged == ["F-001", "F-002", "F-003"]
    assert again.conflicts == []


def test_team_set_by_hand_is_exported(store: Store, fake_clock: FakeClock, tmp_path: Path) -> None:
    with_team = tmp_path / SEED_DOC.name
    with_team.write_text(SEED_DOC.read_text(encoding="utf-8") + "team: sre\n", encoding="utf-8")
    with store.session() as session:
        result = import_document(session, with_team)
        exercise = get_exercise(session, result.exercise)
        _, before = export_text(session, exercise)
        service.update_fields(session, service.get_finding(session, "F-001"), {"team": "legal"})
        _, after = export_text(session, exercise)
    findings_before = _plain(before)["findings"]  # type: ignore[index]
    findings_after = _plain(after)["findings"]  # type: ignore[index]
    assert all("team" not in f for f in findings_before)  # the document's default
    assert findings_after[0]["team"] == "legal"


def test_exported_status_and_classification_round_trip(
    store: Store, fake_clock: FakeClock, tmp_path: Path
) -> None:
    with store.session() as session:
        result = import_document(session, SEED_DOC)
        finding = service.get_finding(session, "F-001")
        service.update_fields(session, finding, {"capability": "on_call"})
        service.set_status(session, finding, "in_progress")
        _, text = export_text(session, get_exercise(session, result.exercise))
    data = _plain(text)
    assert isinstance(data, dict)
    first = data["findings"][0]
    assert first["status"] == "in_progress"
    assert first["capability"] == "on_call"
    assert "change_type" not in first  # guessed, never said by the user
    out = tmp_path / "doc.yaml"
    out.write_text(text, encoding="utf-8")
    with store.session() as session:
        assert import_document(session, out).conflicts == []


def test_bad_document_names_file_line_and_column(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    shutil.copy(SEED_DOC, bad)
    bad.write_text(
        bad.read_text(encoding="utf-8").replace("severity: critical", "severity: urgent"),
        encoding="utf-8",
    )
    with pytest.raises(LibraryError) as caught:
        read_document(bad)
    text = str(caught.value)
    assert f"{bad}:16:15:" in text
    assert "severity" in text


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_either_loads_or_is_a_located_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    problems = []
    try:
        read_document(path)
    except LibraryError as exc:
        problems = exc.problems
    assert all(p.location.path == str(path) for p in problems)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.sampled_from(
            [
                "scenario: x",
                "date: 2026-01-01",
                "participants: [a]",
                "findings: []",
                "next_actions: [do it]",
                "findings: 3",
                "date: soon",
                "extra: 1",
                "findings:\n  - id: F-1\n    severity: low\n    description: d",
            ]
        ),
        max_size=6,
        unique=True,
    )
)
def test_document_fragments(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "frag.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = []
    document = None
    try:
        document = read_document(path)
    except LibraryError as exc:
        problems = exc.problems
    if document is None:
        assert problems
    else:
        assert document.scenario == "x"
