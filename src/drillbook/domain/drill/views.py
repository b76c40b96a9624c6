"""Typed read models of drill runs for the web pages and API."""

from __future__ import annotations

from pydantic import BaseModel

from drillbook.domain.drill.models import DrillRun
from drillbook.domain.scorecard.models import DetectionResultRow


class DrillSummaryView(BaseModel):
    id: str
    short: str
    plan: str
    team: str | None
    status: str
    started: str
    techniques: int
    checked: int
    fired: int
    verdict: str


class DetectionView(BaseModel):
    rule: str
    verdict: str
    fired: bool
    severity: str
    expected_severity: str
    time_to_alert: str
    finding: str


class TechniqueView(BaseModel):
    technique: str
    name: str
    status: str
    reason: str
    cleanup: str
    detections: list[DetectionView]


class DrillDetailView(DrillSummaryView):
    abort_reason: str
    target: str
    operator: str
    techniques_detail: list[TechniqueView]


def drill_summary(run: DrillRun, results: list[DetectionResultRow]) -> DrillSummaryView:
    fired = sum(1 for r in results if r.fired)
    return DrillSummaryView(
        id=run.id,
        short=run.id[:8],
        plan=run.plan_name,
        team=run.team,
        status=run.status,
        started=run.started_at.strftime("%Y-%m-%d %H:%M UTC"),
        techniques=len(run.technique_runs),
        checked=len(results),
        fired=fired,
        verdict=("not scored" if not results else "passed" if fired == len(results) else "failed"),
    )


def drill_detail(run: DrillRun, results: list[DetectionResultRow]) -> DrillDetailView:
    by_technique: dict[str, list[DetectionResultRow]] = {}
    for row in results:
        by_technique.setdefault(row.technique_run_id, []).append(row)
    techniques = [
        TechniqueView(
            technique=technique.technique,
            name=technique.name,
            status=technique.status,
            reason=technique.reason or "",
            cleanup=technique.cleanup_outcome,
            detections=[
                DetectionView(
                    rule=r.rule_title or r.expected_rule,
                    verdict=r.verdict.replace("_", " "),
                    fired=r.fired,
                    severity=r.fired_severity or "",
                    expected_severity=r.expected_severity or "",
                    time_to_alert=(
                        f"{r.time_to_alert_seconds:.1f}s"
                        if r.time_to_alert_seconds is not None
                        else ""
                    ),
                    finding=r.finding_id or "",
                )
                for r in by_technique.get(technique.id, [])
            ],
        )
        for technique in run.technique_runs
    ]
    return DrillDetailView(
        **drill_summary(run, results).model_dump(),
        abort_reason=run.abort_reason or "",
        target=run.target,
        operator=run.operator,
        techniques_detail=techniques,
    )
