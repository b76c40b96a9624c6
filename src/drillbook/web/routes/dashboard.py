"""The landing page: the program at a glance, as far as the viewer's team reaches."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from drillbook.domain.account.access import visible
from drillbook.domain.drill.service import list_runs
from drillbook.domain.exercise.service import list_exercises
from drillbook.domain.finding.service import list_findings
from drillbook.flows.dashboard import dashboard_charts
from drillbook.web.app import context, templates
from drillbook.web.auth import signed_in

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request) -> Response:
    web = context(request)
    with web.store.session() as session:
        who = signed_in(request, session)
        if who.is_guest:
            return RedirectResponse(f"/exercises/{who.exercise_id}", status_code=303)
        exercises = visible(who, list_exercises(session), lambda e: e.team)
        drill_count = len(visible(who, list_runs(session, limit=10_000), lambda r: r.team))
        active = visible(who, list_findings(session, active=True), lambda f: f.team)
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
        library = web.library()
        figures = dashboard_charts(session, library, who)
    program = library.program
    scenarios = [s.scenario for s in library.scenarios.values()]
    by_category: dict[str, int] = {}
    for scenario in scenarios:
        key = scenario.category.value if scenario.category else "uncategorised"
        by_category[key] = by_category.get(key, 0) + 1
    teams = program.teams if program else []
    if not who.is_admin:
        teams = [t for t in teams if t.id == who.team]
    return templates.TemplateResponse(
        request,
        "dashboard.html",
        {
            "who": who,
            "organisation": program.organisation if program else "No library",
            "scenario_count": len(scenarios),
            "by_category": sorted(by_category.items()),
            "teams": teams,
            "exercise_count": len(exercises),
            "drill_count": drill_count,
            "findings": findings,
            "live": live,
            "charts": figures,
        },
    )


@router.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}
