"""Drill pages: each run with what was detonated, what was refused and why, and whether
the expected detection fired (the scorecard `drill score` stored). Scoped to the
viewer's team like every other record."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from drillbook.domain.account.access import require_visible, visible
from drillbook.domain.drill.service import get_run, list_runs
from drillbook.domain.drill.views import drill_detail, drill_summary
from drillbook.domain.scorecard.service import results_for
from drillbook.web.app import context, templates
from drillbook.web.auth import signed_in
from drillbook.web.params import DrillId

router = APIRouter(include_in_schema=False)


@router.get("/drills", response_class=HTMLResponse)
def drill_list(request: Request) -> HTMLResponse:
    with context(request).store.session() as session:
        who = signed_in(request, session)
        runs = visible(who, list_runs(session), lambda r: r.team)
        rows = [drill_summary(run, results_for(session, run.id)) for run in runs]
    return templates.TemplateResponse(request, "drills.html", {"rows": rows, "who": who})


@router.get("/drills/{run_id}", response_class=HTMLResponse)
def drill_page(request: Request, run_id: DrillId) -> HTMLResponse:
    with context(request).store.session() as session:
        who = signed_in(request, session)
        run = get_run(session, run_id)
        require_visible(
            who, run.team, f"drill run {run_id!r}; `drillbook drill list` shows the runs"
        )
        detail = drill_detail(run, results_for(session, run.id))
    return templates.TemplateResponse(request, "drill.html", {"d": detail, "who": who})
