"""The read side of the JSON API under ``/api``: typed read models from
``domain/*/views.py`` (the same the CLI's ``--json`` prints), the same access rules as the
pages, and one error body everywhere: ``{"error": "...", "status": 404}``."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from drillbook.domain.account.access import require_exercise, require_visible, visible
from drillbook.domain.account.service import audit_entries
from drillbook.domain.drill.service import get_run, list_runs
from drillbook.domain.drill.views import (
    DrillDetailView,
    DrillSummaryView,
    drill_detail,
    drill_summary,
)
from drillbook.domain.exercise.board import visible_exercises
from drillbook.domain.exercise.service import get_exercise
from drillbook.domain.exercise.views import ExerciseStatusView, status_view
from drillbook.domain.finding.board import finding_page
from drillbook.domain.finding.service import list_findings
from drillbook.domain.finding.tracking import links_by_finding
from drillbook.domain.finding.views import FindingView, finding_view
from drillbook.domain.scenario.views import ScenarioSummaryView, scenario_summary
from drillbook.domain.scorecard.service import results_for
from drillbook.errors import AccessDenied
from drillbook.web.app import context
from drillbook.web.auth import signed_in
from drillbook.web.params import DrillId, ExerciseId
from drillbook.web.routes.scenarios import account_only

router = APIRouter(prefix="/api")


class MeView(BaseModel):
    name: str
    username: str | None
    role: str | None
    team: str | None
    exercise_id: int | None
    seat: str | None


class AuditView(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    target: str | None
    remote: str | None
    detail: dict[str, Any]


@router.get("/me", response_model=MeView)
def me(request: Request) -> MeView:
    with context(request).store.session() as session:
        who = signed_in(request, session)
    return MeView(
        name=who.name,
        username=who.username,
        role=str(who.role) if who.role else None,
        team=who.team,
        exercise_id=who.exercise_id,
        seat=who.seat,
    )


@router.get("/exercises", response_model=list[ExerciseStatusView])
def exercises(
    request: Request, response: Response, limit: int | None = None, cursor: str | None = None
) -> list[ExerciseStatusView]:
    """The exercises in id order; with ``limit`` one page of them, the next page's cursor
    in ``X-Next-Cursor`` and ``Link: <...>; rel="next"`` (as ``/api/findings``)."""
    with context(request).store.session() as session:
        who = signed_in(request, session)
        if limit is None and cursor is None:
            found, next_cursor = visible_exercises(session, who)
        else:
            size = 100 if limit is None else limit
            found, next_cursor = visible_exercises(session, who, limit=size, cursor=cursor)
            if next_cursor:
                query = {"limit": size, "cursor": next_cursor}
                response.headers["X-Next-Cursor"] = next_cursor
                response.headers["Link"] = f'</api/exercises?{urlencode(query)}>; rel="next"'
        return [status_view(e) for e in found]


@router.get("/exercises/{exercise_id}/status", response_model=ExerciseStatusView)
def exercise_status(request: Request, exercise_id: ExerciseId) -> ExerciseStatusView:
    with context(request).store.session() as session:
        who = signed_in(request, session)
        exercise = get_exercise(session, exercise_id)
        require_exercise(who, exercise)
        return status_view(exercise)


@router.get("/findings", response_model=list[FindingView])
def findings(
    request: Request,
    response: Response,
    show: str = "open",
    limit: int | None = None,
    cursor: str | None = None,
) -> list[FindingView]:
    """The findings in id order; with ``limit`` one page of them, the next page's cursor
    in the ``X-Next-Cursor`` header and a ``Link: <...>; rel="next"`` (none on the last)."""
    with context(request).store.session() as session:
        who = account_only(request, session)
        active = True if show == "open" else None
        if limit is not None or cursor is not None:
            size = 100 if limit is None else limit
            page = finding_page(
                session,
                who,
                active=active,
                limit=size,
                cursor=cursor,
                by_severity=False,
                count=False,
            )
            if page.next_cursor:
                query = {"show": show, "limit": size, "cursor": page.next_cursor}
                response.headers["X-Next-Cursor"] = page.next_cursor
                response.headers["Link"] = f'</api/findings?{urlencode(query)}>; rel="next"'
            links = links_by_finding(session, [f.id for f in page.findings])
            return [finding_view(f, links.get(f.id, ())) for f in page.findings]
        found = list_findings(session, active=active)
        shown = visible(who, found, lambda f: f.team)
        links = links_by_finding(session, [f.id for f in shown])
        return [finding_view(f, links.get(f.id, ())) for f in shown]


@router.get("/drills", response_model=list[DrillSummaryView])
def drills(request: Request) -> list[DrillSummaryView]:
    with context(request).store.session() as session:
        who = account_only(request, session)
        runs = visible(who, list_runs(session), lambda r: r.team)
        return [drill_summary(r, results_for(session, r.id)) for r in runs]


@router.get("/drills/{run_id}", response_model=DrillDetailView)
def drill(request: Request, run_id: DrillId) -> DrillDetailView:
    with context(request).store.session() as session:
        who = account_only(request, session)
        run = get_run(session, run_id)
        require_visible(
            who, run.team, f"drill run {run_id!r}; `drillbook drill list` shows the runs"
        )
        return drill_detail(run, results_for(session, run.id))


@router.get("/scenarios", response_model=list[ScenarioSummaryView])
def scenarios(request: Request) -> list[ScenarioSummaryView]:
    web = context(request)
    with web.store.session() as session:
        account_only(request, session)
    loaded = sorted(web.library().scenarios.values(), key=lambda s: s.scenario.id)
    return [scenario_summary(s.scenario, builtin=s.builtin) for s in loaded]


@router.get("/audit", response_model=list[AuditView])
def audit_log(request: Request) -> list[AuditView]:
    """The newest 200 lines of the audit log (admins only)."""
    with context(request).store.session() as session:
        who = signed_in(request, session)
        if not who.is_admin:
            raise AccessDenied("the audit log is for admins")
        return [AuditView.model_validate(e, from_attributes=True) for e in audit_entries(session)]
