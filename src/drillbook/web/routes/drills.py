"""Drill pages: each run with what was detonated, what was refused and why, and whether
the expected detection fired (the scorecard `drill score` stored)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from drillbook.domain.drill.models import DrillRun
from drillbook.domain.drill.service import get_run, list_runs
from drillbook.domain.scorecard.service import results_for
from drillbook.web.app import context, templates

router = APIRouter()


def run_summary(run: DrillRun, results: list[Any]) -> dict[str, Any]:
    fired = sum(1 for r in results if r.fired)
    return {
        "id": run.id,
        "short": run.id[:8],
        "plan": run.plan_name,
        "status": run.status,
        "started": run.started_at.strftime("%Y-%m-%d %H:%M UTC"),
        "techniques": len(run.technique_runs),
        "checked": len(results),
        "fired": fired,
        "verdict": (
            "not scored" if not results else "passed" if fired == len(results) else "failed"
        ),
    }


def run_detail(run: DrillRun, results: list[Any]) -> dict[str, Any]:
    by_technique: dict[str, list[Any]] = {}
    for row in results:
        by_technique.setdefault(row.technique_run_id, []).append(row)
    techniques = []
    for technique in run.technique_runs:
        checks = by_technique.get(technique.id, [])
        techniques.append(
            {
                "technique": technique.technique,
                "name": technique.name,
                "status": technique.status,
                "reason": technique.reason or "",
                "cleanup": technique.cleanup_outcome,
                "detections": [
                    {
                        "rule": r.rule_title or r.expected_rule,
                        "verdict": r.verdict.replace("_", " "),
                        "fired": r.fired,
                        "severity": r.fired_severity or "",
                        "expected_severity": r.expected_severity or "",
                        "time_to_alert": (
                            f"{r.time_to_alert_seconds:.1f}s"
                            if r.time_to_alert_seconds is not None
                            else ""
                        ),
                        "finding": r.finding_id or "",
                    }
                    for r in checks
                ],
            }
        )
    return {
        **run_summary(run, results),
        "abort_reason": run.abort_reason or "",
        "target": run.target,
        "operator": run.operator,
        "techniques_detail": techniques,
    }


@router.get("/drills", response_class=HTMLResponse)
def drill_list(request: Request) -> HTMLResponse:
    with context(request).store.session() as session:
        rows = [run_summary(run, results_for(session, run.id)) for run in list_runs(session)]
    return templates.TemplateResponse(request, "drills.html", {"rows": rows})


@router.get("/drills/{run_id}", response_class=HTMLResponse)
def drill_page(request: Request, run_id: str) -> HTMLResponse:
    with context(request).store.session() as session:
        run = get_run(session, run_id)
        detail = run_detail(run, results_for(session, run.id))
    return templates.TemplateResponse(request, "drill.html", {"d": detail})


@router.get("/api/drills/{run_id}")
def drill_api(request: Request, run_id: str) -> dict[str, Any]:
    with context(request).store.session() as session:
        run = get_run(session, run_id)
        return run_detail(run, results_for(session, run.id))
