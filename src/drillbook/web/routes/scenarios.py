"""Scenario library pages and JSON API."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from drillbook.web.app import context, templates

router = APIRouter()


@router.get("/scenarios", response_class=HTMLResponse)
def scenario_list(request: Request, category: str | None = None) -> HTMLResponse:
    library = context(request).library()
    rows = sorted(
        (
            s
            for s in library.scenarios.values()
            if category is None or (s.scenario.category and s.scenario.category.value == category)
        ),
        key=lambda s: s.scenario.id,
    )
    return templates.TemplateResponse(
        request, "scenarios.html", {"rows": rows, "category": category}
    )


@router.get("/scenarios/{scenario_id}", response_class=HTMLResponse)
def scenario_detail(request: Request, scenario_id: str) -> HTMLResponse:
    loaded = context(request).library().scenario(scenario_id)
    scenario = loaded.scenario
    return templates.TemplateResponse(
        request,
        "scenario.html",
        {
            "s": scenario,
            "loaded": loaded,
            "windows": scenario.phase_windows(),
            "criteria": scenario.criteria,
        },
    )


@router.get("/api/scenarios")
def scenario_api(request: Request) -> list[dict[str, Any]]:
    library = context(request).library()
    return [
        {
            "id": s.scenario.id,
            "title": s.scenario.title,
            "category": s.scenario.category,
            "difficulty": s.scenario.difficulty,
            "duration": s.scenario.duration,
            "builtin": s.builtin,
        }
        for s in sorted(library.scenarios.values(), key=lambda s: s.scenario.id)
    ]
