"""Scorecards: the seed's document, the counting rules, and failures becoming findings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drillbook.detection.config import DetectionConfig
from drillbook.documents.yaml_io import load_text, to_plain
from drillbook.domain.drill.models import DrillRun, ProcessEvent, TechniqueRun
from drillbook.domain.finding import service as findings
from drillbook.domain.scorecard.document import (
    Failure,
    Percentiles,
    Scorecard,
    file_name,
    load_scorecard,
)
from drillbook.domain.scorecard.models import DetectionResultRow
from drillbook.domain.scorecard.service import build_scorecard, percentile, record_ack
from drillbook.errors import LibraryError
from drillbook.flows.drill_check import check_drill, scorecard_for
from drillbook.storage.engine import Store
from tests.helpers import FILES, shared_data

T0 = datetime(2026, 4, 29, 14, 30, tzinfo=UTC)


def test_the_seed_scorecard_round_trips_unchanged(seed_dir: Path) -> None:
    path = seed_dir / "drill-results" / "2026-04-29-purple-team.yaml"
    card = load_scorecard(path)
    original = to_plain(load_text(path.read_text()))
    dumped = to_plain(load_text(card.dump()))
    assert dumped == original
    assert list(dumped) == list(original)
    for before, after in zip(original["failures"], dumped["failures"], strict=True):
        assert list(before) == list(after)


def test_a_bad_scorecard_is_a_located_error(tmp_path: Path) -> None:
    bad = tmp_path / "card.yaml"
    bad.write_text("date: 2026-04-29\ntechniques_attempted: many\n")
    with pytest.raises(LibraryError) as caught:
        load_scorecard(bad)
    assert f"{bad}:2:" in str(caught.value)


def test_file_name_follows_the_seed() -> None:
    assert file_name(T0.date(), "Purple Team") == "2026-04-29-purple-team.yaml"


@given(st.lists(st.floats(min_value=0, max_value=1e6), min_size=1, max_size=50))
def test_percentiles_are_values_that_happened(values: list[float]) -> None:
    p50, p95 = percentile(values, 50), percentile(values, 95)
    assert p50 in values
    assert p95 in values
    assert p50 is not None
    assert p95 is not None
    assert p50 <= p95


_counts = st.integers(min_value=0, max_value=10_000)
_seconds = st.none() | st.integers(min_value=0, max_value=10**6)
_text = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=60)


@settings(max_examples=40, deadline=None)
@given(
    st.builds(
        Scorecard,
        date=st.dates(),
        techniques_attempted=_counts,
        techniques_with_expected_detection=_counts,
        detections_fired=_counts,
        detections_with_correct_severity=_counts,
        mean_time_to_alert_seconds=st.builds(Percentiles, p50=_seconds, p95=_seconds),
        failures=st.lists(
            st.builds(
                Failure,
                technique=_text,
                expected_rule=_text,
                fired=st.booleans(),
                investigation=st.none() | _text,
                action=st.none() | _text,
            ),
            max_size=3,
        ),
    )
)
def test_any_scorecard_survives_a_write_and_a_read(card: Scorecard) -> None:
    again = Scorecard.model_validate(to_plain(load_text(card.dump())))
    assert again == card


def tech(
    tid: str,
    technique: str,
    status: str = "succeeded",
    *,
    telemetry: bool = True,
    expected: bool = True,
) -> SimpleNamespace:
    return SimpleNamespace(
        id=tid,
        technique=technique,
        status=status,
        telemetry_captured=telemetry,
        reason="refused: needs elevation" if status == "refused" else None,
        expected_detections=[{"sigma_rule": "r.yml"}] if expected else [],
    )


def result(
    tid: str,
    technique: str,
    *,
    fired: bool,
    severity: str | None = None,
    expected: str | None = None,
    tta: float | None = None,
    verdict: str | None = None,
) -> DetectionResultRow:
    return DetectionResultRow(
        drill_run_id="run1",
        technique_run_id=tid,
        technique=technique,
        technique_name="",
        expected_rule=f"rules/{technique}.yml",
        backend="local",
        verdict=verdict or ("fired" if fired else "not_fired"),
        fired=fired,
        fired_severity=severity,
        expected_severity=expected,
        technique_started_at=T0,
        first_alert_at=T0 + timedelta(seconds=tta) if tta is not None else None,
        time_to_alert_seconds=tta,
        events_seen=3,
        detail="diagnosis",
        checked_at=T0,
    )


def test_counting_never_turns_a_technique_that_did_not_run_into_a_pass() -> None:
    techniques = [
        tech("a", "T1082"),
        tech("b", "T1033"),
        tech("c", "T1057"),
        tech("d", "T1222.002", status="refused"),
        tech("e", "T1087.001", telemetry=False),
        tech("f", "T1059.004", expected=False),
    ]
    rows = [
        result("a", "T1082", fired=True, severity="high", expected="high", tta=2),
        result("b", "T1033", fired=True, severity="medium", expected="critical", tta=40),
        result("c", "T1057", fired=False),
        result("e", "T1087.001", fired=False, verdict="no_events"),
    ]
    card = build_scorecard(
        run_id="run1",
        plan_name="purple",
        run_date=T0.date(),
        technique_runs=techniques,
        rows=rows,
        acks={"T1082": T0 + timedelta(seconds=240)},
    )
    assert card.techniques_attempted == 5
    assert card.techniques_with_expected_detection == 4
    assert card.detections_fired == 2
    assert card.detections_with_correct_severity == 1
    assert card.mean_time_to_alert_seconds.p50 == 2
    assert card.mean_time_to_alert_seconds.p95 == 40
    assert card.mean_time_to_human_acknowledgement_seconds.p50 == 240
    assert [n.technique for n in card.techniques_not_run] == ["T1222.002"]
    assert card.techniques_without_telemetry == ["T1087.001"]
    failures = {f.technique: f for f in card.failures}
    assert set(failures) == {"T1033", "T1057", "T1087.001"}
    assert failures["T1033"].fired_severity == "medium"
    assert failures["T1033"].expected_severity == "critical"
    assert failures["T1057"].fired_severity is None
    assert "telemetry" in (failures["T1087.001"].action or "")
    document = card.to_document()
    assert list(document)[:8] == [
        "date",
        "techniques_attempted",
        "techniques_with_expected_detection",
        "detections_fired",
        "detections_with_correct_severity",
        "mean_time_to_alert_seconds",
        "mean_time_to_human_acknowledgement_seconds",
        "failures",
    ]
    assert Scorecard.model_validate(document) == card


# -- the flow, on the real drill and finding tables -------------------------------------


def make_run(
    store: Store,
    run_id: str,
    *,
    commands: list[tuple[str, str]],
    rule: str,
    expected_severity: str | None = None,
    status: str = "succeeded",
    start: datetime = T0,
) -> None:
    with store.session() as session:
        session.add(
            DrillRun(
                id=run_id,
                plan_name="purple-team",
                plan_path="drills/purple.yaml",
                target="local",
                status="completed",
                started_at=start,
                ended_at=start + timedelta(seconds=10),
                runner_pid=1,
                runner_host="h",
                operator="tester",
                safety={},
            )
        )
        session.add(
            TechniqueRun(
                id=f"{run_id}-t1",
                drill_run_id=run_id,
                position=0,
                technique="T1082",
                name="List OS Information",
                executor="atomic",
                status=status,
                started_at=start + timedelta(seconds=1),
                ended_at=start + timedelta(seconds=3),
                ran=status == "succeeded",
                checks=[],
                cleanup_outcome="done",
                telemetry_captured=True,
                details={},
                expected_detections=[{"sigma_rule": rule, "expected_severity": expected_severity}],
            )
        )
        session.add(
            ProcessEvent(
                drill_run_id=run_id,
                technique_run_id=f"{run_id}-t1",
                technique="T1082",
                utc_time=start + timedelta(seconds=1, milliseconds=100),
                process_id=100,
                image="/usr/bin/sh",
                command_line=f"/usr/bin/sh -c /tmp/{run_id}/T1082.sh",
                user="drill",
                is_runner=True,
            )
        )
        for offset, (image, command) in enumerate(commands, start=2):
            session.add(
                ProcessEvent(
                    drill_run_id=run_id,
                    technique_run_id=f"{run_id}-t1",
                    technique="T1082",
                    utc_time=start + timedelta(seconds=1, milliseconds=100 * offset),
                    process_id=100 + offset,
                    parent_process_id=100,
                    image=image,
                    command_line=command,
                    parent_image="/usr/bin/sh",
                    user="drill",
                )
            )


UNAME = [("/usr/bin/uname", "uname -a"), ("/usr/bin/cat", "cat /etc/lsb-release")]
LS = [("/usr/bin/ls", "ls /etc")]


def test_a_drill_that_fires_scores_a_pass_with_a_time_to_alert(sqlite_store: Store) -> None:
    rule = str(
        shared_data() / "sigma/rules/linux/process_creation/"
        "proc_creation_lnx_system_info_discovery.yml"
    )
    make_run(sqlite_store, "run1", commands=UNAME, rule=rule)
    with sqlite_store.session() as session:
        check = check_drill(session, "run1", config=DetectionConfig())
    card = check.scorecard
    assert card.techniques_attempted == 1
    assert card.detections_fired == 1
    assert card.detections_with_correct_severity == 1
    assert card.mean_time_to_alert_seconds.p50 == 0.2  # uname at +1.2 s, technique at +1 s
    assert card.failures == []
    assert check.rows[0].fired_severity == "informational"
    assert check.findings_opened == []


def test_the_check_closes_the_backends_it_opened(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drillbook.detection.local import LocalSigmaBackend

    closed: list[LocalSigmaBackend] = []
    original = LocalSigmaBackend.close

    def close(self: LocalSigmaBackend) -> None:
        closed.append(self)
        original(self)

    monkeypatch.setattr(LocalSigmaBackend, "close", close)
    rule = str(
        shared_data() / "sigma/rules/linux/process_creation/"
        "proc_creation_lnx_system_info_discovery.yml"
    )
    make_run(sqlite_store, "run1", commands=UNAME, rule=rule)
    with sqlite_store.session() as session:
        check_drill(session, "run1", config=DetectionConfig())
    assert len(closed) == 1


def test_a_failure_opens_one_finding_and_a_rerun_adds_evidence(
    store: Store, fake_clock: Any
) -> None:
    rule = str(FILES / "detection" / "rules" / "whoami_exact.yml")
    make_run(store, "run1", commands=LS, rule=rule, expected_severity="high")
    with store.session() as session:
        first = check_drill(session, "run1")
    assert first.scorecard.detections_fired == 0
    (failure,) = first.scorecard.failures
    assert failure.fired is False
    assert failure.verdict == "not_fired"
    assert failure.finding == first.findings_opened[0]
    assert "none matched" in (failure.investigation or "")

    fake_clock.advance(timedelta(days=7))
    make_run(
        store,
        "run2",
        commands=LS,
        rule=rule,
        expected_severity="high",
        start=T0 + timedelta(days=7),
    )
    with store.session() as session:
        second = check_drill(session, "run2")
        assert second.findings_opened == []
        assert second.findings_updated == first.findings_opened
        finding = findings.get_finding(session, first.findings_opened[0])
        assert finding.severity == "high"
        assert finding.source == "drill"
        assert finding.rule == rule
        assert finding.technique == "T1082"

    make_run(
        store,
        "run3",
        commands=[("/usr/bin/whoami", "whoami")],
        rule=rule,
        expected_severity="low",
        start=T0 + timedelta(days=8),
    )
    with store.session() as session:
        third = check_drill(session, "run3")
        assert third.findings_verified == first.findings_opened
        assert findings.get_finding(session, first.findings_opened[0]).status == "verified"


def test_rescoring_a_run_replaces_its_results(sqlite_store: Store) -> None:
    rule = str(FILES / "detection" / "rules" / "whoami_exact.yml")
    make_run(sqlite_store, "run1", commands=[("/usr/bin/whoami", "whoami")], rule=rule)
    with sqlite_store.session() as session:
        check_drill(session, "run1")
        check_drill(session, "run1")
        record_ack(session, "run1", "T1082", at=T0 + timedelta(seconds=61))
        card = scorecard_for(session, "run1")
    assert card.detections_fired == 1
    assert card.mean_time_to_human_acknowledgement_seconds.p50 == 60


def test_a_refused_technique_is_not_checked_and_not_a_pass(sqlite_store: Store) -> None:
    rule = str(FILES / "detection" / "rules" / "whoami_exact.yml")
    make_run(sqlite_store, "run1", commands=[], rule=rule, status="refused")
    with sqlite_store.session() as session:
        check = check_drill(session, "run1")
    assert check.rows == []
    assert check.scorecard.techniques_attempted == 0
    assert check.scorecard.detections_fired == 0
    assert check.scorecard.techniques_not_run[0].status == "refused"
