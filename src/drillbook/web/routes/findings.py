"""The findings backlog: one list for tabletop and drill findings, scoped to the team."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from drillbook.domain.account.access import visible
from drillbook.domain.finding.service import list_findings
from drillbook.domain.finding.tracking import links_by_finding
from drillbook.domain.finding.views import finding_view
from drillbook.web.app import context, templates
from drillbook.web.auth import signed_in

router = APIRouter(include_in_schema=False)
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


@router.get("/findings", response_class=HTMLResponse)
def findings_page(request: Request, show: str = "open") -> HTMLResponse:
    with context(request).store.session() as session:
        who = signed_in(request, session)
        found = list_findings(session, active=True if show == "open" else None)
        links = links_by_finding(session, [f.id for f in found])
        rows = sorted(
            (finding_view(f, links.get(f.id, ())) for f in visible(who, found, lambda f: f.team)),
            key=lambda r: (SEVERITY_ORDER.get(r.severity, 9), r.id),
        )
    overdue = sum(1 for r in rows if r.overdue)
    return templates.TemplateResponse(
        request, "findings.html", {"rows": rows, "show": show, "overdue": overdue, "who": who}
    )
