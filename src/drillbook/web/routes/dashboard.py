"""The landing page: the program at a glance."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from drillbook.web.app import context, templates

router = APIRouter()


@router.get("/", response_class=HTMLResponse)
def dashboard(request: Request) -> HTMLResponse:
    library = context(request).library()
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
        },
    )


@router.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}
