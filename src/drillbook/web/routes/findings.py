"""The findings backlog: one list for tabletop and drill findings, scoped to the team,
worst first, a page at a time (:mod:`drillbook.domain.finding.board`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from drillbook.domain.finding.board import BOARD_PAGE, finding_page
from drillbook.domain.finding.tracking import links_by_finding
from drillbook.domain.finding.views import finding_view
from drillbook.web.app import context, templates
from drillbook.web.auth import signed_in

router = APIRouter(include_in_schema=False)


@router.get("/findings", response_class=HTMLResponse)
def findings_page(
    request: Request, show: str = "open", cursor: str | None = None, limit: int = BOARD_PAGE
) -> HTMLResponse:
    with context(request).store.session() as session:
        who = signed_in(request, session)
        page = finding_page(
            session, who, active=True if show == "open" else None, limit=limit, cursor=cursor
        )
        links = links_by_finding(session, [f.id for f in page.findings])
        rows = [finding_view(f, links.get(f.id, ())) for f in page.findings]
    return templates.TemplateResponse(
        request,
        "findings.html",
        {
            "rows": rows,
            "show": show,
            "overdue": page.overdue,
            "total": page.total,
            "next_cursor": page.next_cursor,
            "limit": limit,
            "first_page": cursor is None,
            "who": who,
        },
    )
