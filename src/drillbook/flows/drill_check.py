"""Check a drill run's expected detections, score it, and turn failures into findings.

This is where the drill, detection, scorecard and finding domains meet:

1. for each technique run that detonated, ask the detection backend (the local Sigma
   engine over the run's recorded process events, or a SIEM) whether each expected
   detection fired in the technique's window, polling until the ingestion deadline;
2. store one result per expected detection (replacing an earlier check of the run);
3. each failure opens a finding (source ``drill``, severity from the expected
   detection) unless an open finding for the same rule and technique exists, which
   gets the new evidence instead; a detection that now fires marks such a finding
   verified;
4. the scorecard is computed from the stored results.

The runner's own processes (the sandbox and its supervisor) are excluded
(``include_runner=False``): attributing them to the technique would make a broken
detection look like a working one. The technique's own shell (``sh -c '<command>'``) is
the technique's process, and is checked.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.detection.base import (
    DetectionBackend,
    DetectionResult,
    RuleRef,
    Verdict,
    Window,
)
from drillbook.detection.config import DetectionConfig
from drillbook.detection.local import LocalSigmaBackend
from drillbook.detection.registry import load_backend
from drillbook.domain.drill.enums import TechniqueStatus
from drillbook.domain.scorecard import service as scorecards
from drillbook.domain.scorecard.document import Scorecard
from drillbook.domain.scorecard.models import DetectionResultRow
from drillbook.flows.drill_sensor_events import sensor_events
from drillbook.telemetry.readers.jsonl import SourcedEvent

# Events are stamped by the sensor, the window by the runner: allow for the difference.
WINDOW_SLACK = timedelta(seconds=2)
FINDING_SEVERITIES = ("critical", "high", "medium", "low")
DETONATED = frozenset(status.value for status in TechniqueStatus if status.detonated)

BackendFactory = Callable[[str], DetectionBackend]


@dataclass
class DrillCheck:
    run_id: str
    rows: list[DetectionResultRow]
    scorecard: Scorecard
    findings_opened: list[str] = field(default_factory=list)
    findings_updated: list[str] = field(default_factory=list)
    findings_verified: list[str] = field(default_factory=list)


def rule_ref(expected: dict[str, Any]) -> RuleRef:
    sigma = expected.get("sigma_rule")
    return RuleRef(
        title=expected.get("title"),
        rule_id=expected.get("rule_id"),
        sigma_path=Path(sigma) if sigma else None,
        query=expected.get("query"),
    )


def rule_label(expected: dict[str, Any]) -> str:
    return str(
        expected.get("sigma_rule")
        or expected.get("rule_id")
        or expected.get("title")
        or expected.get("query")
        or "<rule>"
    )


def local_backend_for(
    session: Session, run_id: str, *, config: DetectionConfig, library_root: Path | None
) -> LocalSigmaBackend:
    """A local engine loaded with the run's recorded events: process creations (runner
    excluded) and the file, network and auditd events of the techniques' own processes
    (each to its log source: ``file_event``, ``network_connection``, ``auditd``, ...)."""
    from drillbook.domain.drill import service as drills

    backend = LocalSigmaBackend.from_config(config, library_root=library_root)
    events = []
    for event in drills.process_events(session, run_id, include_runner=False):
        event = dict(event)
        event["_technique_run"] = event.pop("technique_run_id", None)
        event["_is_runner"] = bool(event.pop("is_runner", False))
        event.pop("drill_run_id", None)
        events.append(event)
    backend.ingest(events, table="process_creation", run_id=run_id)
    by_technique: dict[str, list[SourcedEvent]] = {}
    for item, technique_run_id in sensor_events(session, run_id):
        by_technique.setdefault(technique_run_id, []).append(item)
    for technique_run_id, items in by_technique.items():
        backend.ingest_sourced(items, run_id=run_id, technique_run_id=technique_run_id)
    return backend


def _finding_severity(expected: str | None) -> str:
    value = (expected or "").lower()
    return value if value in FINDING_SEVERITIES else "medium"


def _row(
    run_id: str, tr: Any, expected: dict[str, Any], result: DetectionResult
) -> DetectionResultRow:
    first = result.first_alert_at
    tta = None
    if first is not None and tr.started_at is not None:
        tta = max(0.0, (first - tr.started_at).total_seconds())
    return DetectionResultRow(
        drill_run_id=run_id,
        technique_run_id=tr.id,
        technique=tr.technique,
        technique_name=tr.name or "",
        expected_rule=rule_label(expected),
        rule_title=result.rule.title,
        backend=result.backend,
        verdict=result.verdict.value,
        fired=result.fired,
        fired_severity=result.fired_severity,
        expected_severity=expected.get("expected_severity"),
        technique_started_at=tr.started_at,
        first_alert_at=first,
        time_to_alert_seconds=tta,
        acknowledged_at=result.acknowledged_at,
        events_seen=result.events_seen,
        matching_events=result.matching_events,
        detail=result.detail,
        checked_at=clock.now(),
    )


def check_technique(
    backend: DetectionBackend,
    tr: Any,
    expected: dict[str, Any],
    *,
    run_id: str,
    config: DetectionConfig,
    wait: bool,
    sleep: Callable[[float], Any] | None,
) -> DetectionResult:
    end = tr.ended_at or clock.now()
    window = Window(
        start=tr.started_at - WINDOW_SLACK,
        end=end + WINDOW_SLACK,
        drill_run_id=run_id,
        technique_run_id=tr.id if isinstance(backend, LocalSigmaBackend) else None,
    )
    deadline = None
    if wait and not isinstance(backend, LocalSigmaBackend):
        deadline = max(end, clock.now()) + timedelta(seconds=config.delay_seconds())
    return backend.wait_for(
        rule_ref(expected),
        window,
        deadline=deadline,
        poll_interval=config.poll_seconds(),
        sleep=sleep,
    )


def oncall_ack(
    config: DetectionConfig, row: DetectionResultRow, *, transport: Any = None
) -> datetime | None:
    """The acknowledgement from PagerDuty or Opsgenie, when configured and the SIEM had none."""
    from drillbook.detection.acks import opsgenie_ack, pagerduty_ack

    if row.technique_started_at is None or not row.rule_title:
        return None
    start, end = row.technique_started_at, clock.now()
    if config.pagerduty is not None:
        found = pagerduty_ack(config.pagerduty, row.rule_title, start, end, transport=transport)
        if found is not None:
            return found
    if config.opsgenie is not None:
        return opsgenie_ack(config.opsgenie, row.rule_title, start, end, transport=transport)
    return None


def _sync_findings(
    session: Session, run_id: str, rows: list[DetectionResultRow], check: DrillCheck, sla: Any
) -> None:
    from drillbook.domain.finding import service as findings

    for row in rows:
        if row.verdict == "not_run":
            continue
        existing = findings.find_open_for_detection(
            session, rule=row.expected_rule, technique=row.technique
        )
        ref = f"drill:{run_id}/{row.technique_run_id}"
        if scorecards.is_failure(row):
            text = (
                f"Drill {run_id}: {row.expected_rule} "
                f"{'fired as ' + str(row.fired_severity) if row.fired else 'did not fire'} "
                f"for {row.technique}. {row.detail}"
            ).strip()
            if existing is not None:
                findings.add_evidence(session, existing, text=text, source_ref=ref)
                row.finding_id = existing.id
                check.findings_updated.append(existing.id)
            else:
                created = findings.create_finding(
                    session,
                    description=text,
                    severity=_finding_severity(row.expected_severity),
                    source="drill",
                    source_ref=ref,
                    proposed_remediation=scorecards.action_for(row),
                    rule=row.expected_rule,
                    technique=row.technique,
                    sla=sla,
                )
                row.finding_id = created.id
                check.findings_opened.append(created.id)
        elif existing is not None:
            findings.mark_verified(
                session,
                existing,
                note=f"Drill {run_id}: {row.expected_rule} fired for {row.technique} "
                f"({row.fired_severity}), time to alert "
                f"{row.time_to_alert_seconds or 0:.0f}s.",
                source_ref=ref,
            )
            row.finding_id = existing.id
            check.findings_verified.append(existing.id)


def check_drill(
    session: Session,
    run_id: str,
    *,
    config: DetectionConfig | None = None,
    library_root: Path | None = None,
    backend_factory: BackendFactory | None = None,
    wait: bool = True,
    sleep: Callable[[float], Any] | None = None,
    open_findings: bool = True,
    sla: Any = None,
    oncall_transport: Any = None,
) -> DrillCheck:
    """Check every expected detection of a run, store the results, sync findings and
    return the scorecard."""
    from drillbook.domain.drill import service as drills

    config = config or DetectionConfig()
    run = drills.get_run(session, run_id)
    backends: dict[str, DetectionBackend] = {}
    owned: list[DetectionBackend] = []  # made here, so closed here (not the factory's)

    def backend(name: str) -> DetectionBackend:
        if name not in backends:
            if backend_factory is not None:
                backends[name] = backend_factory(name)
            elif name == "local":
                backends[name] = local_backend_for(
                    session, run.id, config=config, library_root=library_root
                )
                owned.append(backends[name])
            else:
                backends[name] = load_backend(name, config, library_root=library_root)
                owned.append(backends[name])
        return backends[name]

    rows: list[DetectionResultRow] = []
    try:
        for tr in sorted(run.technique_runs, key=lambda t: (t.started_at or run.started_at, t.id)):
            if str(tr.status) not in DETONATED or tr.started_at is None:
                continue
            for expected in tr.expected_detections or []:
                chosen = backend(expected.get("backend") or config.backend)
                result = check_technique(
                    chosen, tr, expected, run_id=run.id, config=config, wait=wait, sleep=sleep
                )
                row = _row(run.id, tr, expected, result)
                if row.fired and row.acknowledged_at is None:
                    row.acknowledged_at = oncall_ack(config, row, transport=oncall_transport)
                rows.append(row)
    finally:
        for made in owned:
            made.close()
    check = DrillCheck(run.id, rows, _empty_scorecard(run))
    if open_findings:
        _sync_findings(session, run.id, rows, check, sla)
    scorecards.replace_results(session, run.id, rows)
    check.scorecard = scorecard_for(session, run.id)
    return check


def _empty_scorecard(run: Any) -> Scorecard:
    return Scorecard(
        date=run.started_at.date(),
        techniques_attempted=0,
        techniques_with_expected_detection=0,
        detections_fired=0,
        detections_with_correct_severity=0,
    )


def scorecard_for(session: Session, run_id: str) -> Scorecard:
    """The scorecard of a run from its stored results and acknowledgements."""
    from drillbook.domain.drill import service as drills
    from drillbook.domain.drill.plan import describe_containment

    run = drills.get_run(session, run_id)
    return scorecards.build_scorecard(
        containment=describe_containment(run.safety),
        run_id=run.id,
        plan_name=run.plan_name,
        run_date=run.started_at.date(),
        technique_runs=list(run.technique_runs),
        rows=scorecards.results_for(session, run.id),
        acks=scorecards.acks_for(session, run.id),
    )


def verdict_of(row: DetectionResultRow) -> Verdict:
    return Verdict(row.verdict)


def when(value: datetime | None) -> str:
    return value.isoformat() if value else "-"
