"""Scorecards from stored detection results: counts, percentiles, failures, acks.

Counting rules (per technique run, as the seed counts techniques):

* a technique that did not run (refused, not runnable, aborted) is listed under
  ``techniques_not_run`` and counted nowhere else: it is never a pass;
* a technique that ran counts as attempted; with expected detections it counts under
  ``techniques_with_expected_detection``; it counts as *fired* only when every expected
  detection fired, and as *correct severity* only when each also had the expected
  severity;
* one that ran with no telemetry captured is also listed under
  ``techniques_without_telemetry``: its detections cannot have fired locally.

Time to alert is the first alert (or matching event) minus the technique's start; time
to human acknowledgement is the acknowledgement minus the technique's start.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.clock import ensure_utc
from drillbook.domain.scorecard.document import Failure, NotChecked, Percentiles, Scorecard
from drillbook.domain.scorecard.models import DetectionAck, DetectionResultRow

NOT_RUN_STATUSES = frozenset({"refused", "not_runnable", "aborted", "skipped", "planned"})


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile (no interpolation: every value is one that happened)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def _seconds(value: float | None) -> int | float | None:
    if value is None:
        return None
    if abs(value - round(value)) < 1e-9 or value >= 10:
        return round(value)
    return round(value, 2)


def percentiles(values: Sequence[float]) -> Percentiles:
    return Percentiles(p50=_seconds(percentile(values, 50)), p95=_seconds(percentile(values, 95)))


def replace_results(session: Session, run_id: str, rows: Sequence[DetectionResultRow]) -> None:
    """Store a fresh check of a run, replacing the previous one (re-scoring is idempotent)."""
    session.execute(delete(DetectionResultRow).where(DetectionResultRow.drill_run_id == run_id))
    session.add_all(rows)
    session.flush()


def results_for(session: Session, run_id: str) -> list[DetectionResultRow]:
    query = (
        select(DetectionResultRow)
        .where(DetectionResultRow.drill_run_id == run_id)
        .order_by(DetectionResultRow.id)
    )
    return list(session.scalars(query))


def record_ack(
    session: Session,
    run_id: str,
    technique: str,
    *,
    at: datetime | None = None,
    by: str | None = None,
    source: str = "drillbook",
) -> DetectionAck:
    ack = DetectionAck(
        drill_run_id=run_id,
        technique=technique,
        acknowledged_at=at or clock.now(),
        acknowledged_by=by,
        source=source,
        recorded_at=clock.now(),
    )
    session.add(ack)
    session.flush()
    return ack


def check_ack_time(technique: str, at: datetime, detonated_at: datetime | None) -> None:
    """An acknowledgement must come after the detonation it acknowledges (else the time
    to acknowledgement would be negative)."""
    from drillbook.errors import ConflictError

    if detonated_at is None:
        raise ConflictError(f"{technique} was not detonated in this drill: nothing to acknowledge")
    if ensure_utc(at) < ensure_utc(detonated_at):
        raise ConflictError(
            f"acknowledgement time {ensure_utc(at).isoformat()} is before {technique} was "
            f"detonated ({ensure_utc(detonated_at).isoformat()}); give a later --at"
        )


def acks_for(session: Session, run_id: str) -> dict[str, datetime]:
    """The earliest recorded acknowledgement per technique."""
    found: dict[str, datetime] = {}
    for ack in session.scalars(select(DetectionAck).where(DetectionAck.drill_run_id == run_id)):
        if ack.technique not in found or ack.acknowledged_at < found[ack.technique]:
            found[ack.technique] = ack.acknowledged_at
    return found


def severity_matches(fired: str | None, expected: str | None) -> bool:
    return expected is None or (fired or "").lower() == expected.lower()


def action_for(row: DetectionResultRow) -> str:
    if row.verdict == "no_events":
        return "Restore the telemetry for this technique (sensor, forwarder, index), then re-run."
    if row.fired:
        return (
            f"Update the rule to assign {row.expected_severity} severity "
            f"(it fired as {row.fired_severity})."
        )
    if row.matching_events:
        return "Re-enable the rule (its query matches the drill's events but nothing alerted)."
    return "Fix the rule's query or field names so it matches the technique; re-run the drill."


def failure_of(row: DetectionResultRow) -> Failure:
    return Failure(
        technique=row.technique,
        expected_rule=row.expected_rule,
        fired=row.fired,
        fired_severity=row.fired_severity if row.fired else None,
        expected_severity=row.expected_severity if row.fired else None,
        investigation=row.detail or None,
        action=action_for(row),
        verdict=row.verdict,
        finding=row.finding_id,
    )


def is_failure(row: DetectionResultRow) -> bool:
    return not row.fired or not severity_matches(row.fired_severity, row.expected_severity)


def build_scorecard(
    *,
    run_id: str,
    plan_name: str,
    run_date: date,
    technique_runs: Sequence[Any],
    rows: Sequence[DetectionResultRow],
    acks: dict[str, datetime] | None = None,
    containment: str | None = None,
) -> Scorecard:
    """The scorecard of one drill run from its technique runs and stored results."""
    acks = acks or {}
    by_technique_run: dict[str, list[DetectionResultRow]] = {}
    for row in rows:
        by_technique_run.setdefault(row.technique_run_id, []).append(row)
    attempted = with_expected = fired = correct = 0
    alert_times: list[float] = []
    ack_times: list[float] = []
    failures: list[Failure] = []
    not_run: list[NotChecked] = []
    no_telemetry: list[str] = []
    leaving: list[str] = []
    sent: dict[str, int] = {}
    for tr in technique_runs:
        if str(tr.status) in NOT_RUN_STATUSES:
            not_run.append(
                NotChecked(
                    technique=tr.technique,
                    status=str(tr.status),
                    reason=getattr(tr, "reason", None),
                )
            )
            continue
        attempted += 1
        details = getattr(tr, "details", None) or {}
        if details.get("leftover_processes"):
            leaving.append(tr.technique)
        if isinstance(details.get("network_bytes_sent"), int):
            sent[tr.technique] = sent.get(tr.technique, 0) + details["network_bytes_sent"]
        if not getattr(tr, "telemetry_captured", True):
            no_telemetry.append(tr.technique)
        results = by_technique_run.get(tr.id, [])
        if not (tr.expected_detections or results):
            continue
        with_expected += 1
        if results and all(r.fired for r in results):
            fired += 1
            if all(severity_matches(r.fired_severity, r.expected_severity) for r in results):
                correct += 1
        for row in results:
            if row.time_to_alert_seconds is not None and row.fired:
                alert_times.append(row.time_to_alert_seconds)
            ack = row.acknowledged_at or acks.get(tr.technique)
            if ack is not None and row.technique_started_at is not None and row.fired:
                ack_times.append((ack - row.technique_started_at).total_seconds())
            if is_failure(row):
                failures.append(failure_of(row))
    return Scorecard(
        date=run_date,
        techniques_attempted=attempted,
        techniques_with_expected_detection=with_expected,
        detections_fired=fired,
        detections_with_correct_severity=correct,
        mean_time_to_alert_seconds=percentiles(alert_times),
        mean_time_to_human_acknowledgement_seconds=percentiles(ack_times),
        failures=failures,
        drill_run=run_id,
        plan=plan_name,
        techniques_not_run=not_run,
        techniques_without_telemetry=no_telemetry,
        containment=containment,
        techniques_leaving_processes=leaving,
        network_bytes_sent=sent,
    )
