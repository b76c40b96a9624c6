"""Scenario library pages (for accounts; a guest sees only its exercise)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from drillbook.domain.account.access import Principal
from drillbook.errors import AccessDenied
from drillbook.web.app import context, templates
from drillbook.web.auth import signed_in

router = APIRouter(include_in_schema=False)


def account_only(request: Request, session: Session) -> Principal:
    who = signed_in(request, session)
    if who.is_guest:
        raise AccessDenied("an invitation opens its exercise only")
    return who


@router.get("/scenarios", response_class=HTMLResponse)
def scenario_list(request: Request, category: str | None = None) -> HTMLResponse:
    web = context(request)
    with web.store.session() as session:
        who = account_only(request, session)
    library = web.library()
    rows = sorted(
        (
            s
            for s in library.scenarios.values()
            if category is None or (s.scenario.category and s.scenario.category.value == category)
        ),
        key=lambda s: s.scenario.id,
    )
    return templates.TemplateResponse(
        request, "scenarios.html", {"rows": rows, "category": category, "who": who}
    )


@router.get("/scenarios/{scenario_id}", response_class=HTMLResponse)
def scenario_detail(request: Request, scenario_id: str) -> HTMLResponse:
    web = context(request)
    with web.store.session() as session:
        who = account_only(request, session)
    loaded = web.library().scenario(scenario_id[:200])
    scenario = loaded.scenario
    return templates.TemplateResponse(
        request,
        "scenario.html",
        {
            "s": scenario,
            "loaded": loaded,
            "windows": scenario.phase_windows(),
            "criteria": scenario.criteria,
            "who": who,
        },
    )
