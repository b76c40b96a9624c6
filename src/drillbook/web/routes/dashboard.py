"""The landing page: the program at a glance, as far as the viewer's team reaches."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from drillbook.flows.dashboard import dashboard_charts, dashboard_counts
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
        counts = dashboard_counts(session, who)
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
            "exercise_count": counts.exercises,
            "drill_count": counts.drills,
            "findings": counts.findings,
            "live": counts.live,
            "charts": figures,
        },
    )


@router.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}
