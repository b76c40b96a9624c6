"""Drill pages: each run with what was detonated, what was refused and why, and whether
the expected detection fired (the scorecard `drill score` stored). Scoped to the
viewer's team like every other record.

A running drill's page has the abort the safety profile promises ("any human reports
unexpected impact"): anyone signed in who can see the drill may pull it, saying what
they saw; the runner stops the technique, runs its cleanup and ends the run aborted
(see :mod:`drillbook.flows.drill_abort`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from drillbook.domain.account.access import require_visible, visible
from drillbook.domain.drill.service import get_run, list_runs
from drillbook.domain.drill.views import drill_detail, drill_summary
from drillbook.domain.scorecard.service import results_for
from drillbook.errors import AccessDenied, UsageError
from drillbook.flows.drill_abort import request_abort
from drillbook.web.app import context, templates
from drillbook.web.auth import record_change, signed_in
from drillbook.web.params import DrillId
from drillbook.web.routes.auth_pages import form_fields

MAX_REASON = 1_000

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


@router.post("/drills/{run_id}/abort")
async def abort_drill(request: Request, run_id: DrillId) -> RedirectResponse:
    """Pull the abort of a running drill (the CSRF check runs before this)."""
    why = " ".join((await form_fields(request)).get("why", "").split())[:MAX_REASON]
    web = context(request)
    with web.store.session() as session:
        who = signed_in(request, session)
        if who.is_guest:
            raise AccessDenied("an exercise guest cannot stop a drill; ask the drill operator")
        run = get_run(session, run_id)
        require_visible(
            who, run.team, f"drill run {run_id!r}; `drillbook drill list` shows the runs"
        )
        full_id = run.id
    if not why:
        raise UsageError("say what you saw: the abort reason is required")
    request_abort(web.store, full_id, by=who.label, why=why, via="from the web app")
    with web.writing() as session:
        record_change(request, session, who, "drill_abort", full_id, reason=why)
    return RedirectResponse(f"/drills/{full_id}", status_code=303)
