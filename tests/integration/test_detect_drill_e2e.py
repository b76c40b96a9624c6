"""End to end: a real drill runs T1082 test 3, the local engine checks it, the scorecard
counts it, and a detection that cannot fire becomes exactly one finding."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.domain.finding import service as findings
from drillbook.flows.drill_check import check_drill
from drillbook.flows.drill_run import run_drill
from drillbook.storage.engine import Store
from tests.helpers import FILES, require_binary, shared_data

pytestmark = [pytest.mark.strace, pytest.mark.slow]


def plan(tmp_path: Path, rule: Path, severity: str | None = None) -> Path:
    extra = f"\n        expected_severity: {severity}" if severity else ""
    path = tmp_path / "purple-team.yaml"
    path.write_text(
        "name: purple-team\n"
        "safety:\n  destructive_actions_allowed: false\n"
        "techniques:\n"
        "  - atomic: T1082\n    test: 3\n"
        f"    expected_detection:\n      - sigma_rule: {rule}{extra}\n"
    )
    return path


def test_t1082_fires_system_information_discovery_in_the_drill_window(
    sqlite_store: Store, tmp_path: Path
) -> None:
    require_binary("strace")
    data = shared_data()
    rule = data / "sigma/rules/linux/process_creation/proc_creation_lnx_system_info_discovery.yml"
    run_id = run_drill(
        sqlite_store, plan(tmp_path, rule), atomics=data / "atomic-red-team" / "atomics"
    )
    with sqlite_store.session() as session:
        check = check_drill(session, run_id)
    (row,) = check.rows
    assert row.verdict == "fired", row.detail
    assert row.rule_title == "System Information Discovery"
    assert row.fired_severity == "informational"
    assert row.technique_started_at is not None
    assert row.first_alert_at is not None
    assert row.technique_started_at <= row.first_alert_at
    card = check.scorecard
    assert card.techniques_attempted == 1
    assert card.detections_fired == 1
    assert card.detections_with_correct_severity == 1
    assert card.mean_time_to_alert_seconds.p50 is not None
    assert card.failures == []


def test_a_detection_that_cannot_fire_is_one_finding_across_reruns(
    sqlite_store: Store, tmp_path: Path
) -> None:
    require_binary("strace")
    data = shared_data()
    rule = FILES / "detection" / "rules" / "whoami_exact.yml"  # T1082 never runs whoami
    path = plan(tmp_path, rule, severity="high")
    atomics = data / "atomic-red-team" / "atomics"
    first_run = run_drill(sqlite_store, path, atomics=atomics)
    with sqlite_store.session() as session:
        first = check_drill(session, first_run)
    (failure,) = first.scorecard.failures
    assert failure.fired is False
    assert failure.verdict == "not_fired"
    assert len(first.findings_opened) == 1
    second_run = run_drill(sqlite_store, path, atomics=atomics)
    with sqlite_store.session() as session:
        second = check_drill(session, second_run)
        assert second.findings_opened == []
        assert second.findings_updated == first.findings_opened
        assert len(findings.list_findings(session)) == 1
