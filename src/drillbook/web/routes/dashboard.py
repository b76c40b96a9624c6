"""The landing page: the program at a glance."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from drillbook.domain.drill.service import count_runs
from drillbook.domain.exercise.service import list_exercises
from drillbook.domain.finding.service import list_findings
from drillbook.web.app import context, templates

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request) -> HTMLResponse:
    web = context(request)
    library = web.library()
    with web.store.session() as session:
        exercises = list_exercises(session)
        drill_count = count_runs(session)
        active = list_findings(session, active=True)
        findings = {
            "open": len(active),
            "overdue": sum(1 for f in active if f.overdue),
            "critical": sum(1 for f in active if f.severity == "critical"),
        }
        live = [
            {"id": e.id, "label": e.label, "title": e.title}
            for e in exercises
            if e.status in ("running", "paused")
        ]
    program = library.program
    scenarios = [s.scenario for s in library.scenarios.values()]
    by_category: dict[str, int] = {}
    for scenario in scenarios:
        key = scenario.category.value if scenario.category else "uncategorised"
        by_category[key] = by_category.get(key, 0) + 1
    return templates.TemplateResponse(
        request,
        "dashboard.html",
        {
            "organisation": program.organisation if program else "No library",
            "scenario_count": len(scenarios),
            "by_category": sorted(by_category.items()),
            "teams": program.teams if program else [],
            "exercise_count": len(exercises),
            "drill_count": drill_count,
            "findings": findings,
            "live": live,
        },
    )


@router.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}
