"""The findings backlog: one list for tabletop and drill findings."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from drillbook.domain.finding.service import finding_summary, list_findings
from drillbook.domain.finding.tracking import link_view, links_by_finding
from drillbook.web.app import context, templates

router = APIRouter()
_SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3}


@router.get("/findings", response_class=HTMLResponse)
def findings_page(request: Request, show: str = "open") -> HTMLResponse:
    with context(request).store.session() as session:
        found = list_findings(session, active=True if show == "open" else None)
        links = links_by_finding(session, [f.id for f in found])
        rows = sorted(
            (
                {**finding_summary(f), "trackers": [link_view(x) for x in links.get(f.id, [])]}
                for f in found
            ),
            key=lambda r: (_SEVERITY_ORDER.get(r["severity"], 9), r["id"]),
        )
    overdue = sum(1 for r in rows if r["overdue"])
    return templates.TemplateResponse(
        request, "findings.html", {"rows": rows, "show": show, "overdue": overdue}
    )


@router.get("/api/findings")
def findings_api(request: Request, show: str = "open") -> list[dict[str, Any]]:
    with context(request).store.session() as session:
        found = list_findings(session, active=True if show == "open" else None)
        links = links_by_finding(session, [f.id for f in found])
        return [
            {**finding_summary(f), "trackers": [link_view(x) for x in links.get(f.id, [])]}
            for f in found
        ]
