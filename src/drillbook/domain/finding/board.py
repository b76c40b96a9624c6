"""The findings board and ``/api/findings`` a page at a time, scoped in SQL.

Loading every finding and filtering by team in Python cost the web board seconds at a
program's scale. Here the database filters (the viewer's team scope, open or all),
orders and cuts one page; the cursor is the last finding id shown (as the CLI's
``--cursor``), and the next page starts after it by keyset, so page 50 costs what page 1
costs. The board is ordered worst first (severity, then number); the API in id order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from drillbook.domain.account.access import Principal
from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.service import findings_query, parse_id
from drillbook.domain.program.scope import team_clause
from drillbook.domain.scenario.enums import Severity
from drillbook.errors import UsageError

BOARD_PAGE = 100
MAX_PAGE = 1000

# worst first: critical 0 .. low 3, anything else after
SEVERITY_SORT = case({str(s): 4 - s.rank for s in Severity}, value=Finding.severity, else_=9)


@dataclass
class FindingPage:
    findings: list[Finding]
    next_cursor: str | None
    total: int
    overdue: int


def _scoped(viewer: Principal, **filters: Any) -> Any:
    query = findings_query(**filters)
    if (where := team_clause(Finding.team, viewer=viewer)) is not None:
        query = query.where(where)
    return query


def _after(session: Session, viewer: Principal, cursor: str, by_severity: bool) -> Any:
    """The keyset condition for "after the finding ``cursor``" (one the viewer may see)."""
    try:
        number = parse_id(cursor)
    except Exception as exc:  # a NotFoundError for a malformed id: say what a cursor is
        raise UsageError(f"cursor {cursor!r} is not a finding id (write F-001)") from exc
    if not by_severity:
        return Finding.number > number
    query = select(SEVERITY_SORT).where(Finding.number == number)
    if (where := team_clause(Finding.team, viewer=viewer)) is not None:
        query = query.where(where)
    rank = session.scalar(query)
    if rank is None:
        raise UsageError(f"cursor {cursor!r} names no finding on this board; start without it")
    return or_(rank < SEVERITY_SORT, and_(rank == SEVERITY_SORT, Finding.number > number))


def _count(session: Session, query: Any) -> int:
    return int(session.scalar(query.with_only_columns(func.count()).order_by(None)) or 0)


def finding_page(
    session: Session,
    viewer: Principal,
    *,
    active: bool | None = None,
    limit: int = BOARD_PAGE,
    cursor: str | None = None,
    by_severity: bool = True,
    count: bool = True,
) -> FindingPage:
    """One page of the findings ``viewer`` may see, with the cursor of the next page."""
    if not 1 <= limit <= MAX_PAGE:
        raise UsageError(f"limit {limit} is out of range; give 1 to {MAX_PAGE}")
    base = _scoped(viewer, active=active)
    query = base.order_by(None).order_by(SEVERITY_SORT, Finding.number) if by_severity else base
    if cursor:
        query = query.where(_after(session, viewer, cursor, by_severity))
    found = list(session.scalars(query.limit(limit + 1)))
    more = len(found) > limit
    found = found[:limit]
    total = overdue = 0
    if count:
        total = _count(session, base)
        overdue = _count(session, _scoped(viewer, overdue=True))
    return FindingPage(found, found[-1].id if more and found else None, total, overdue)
