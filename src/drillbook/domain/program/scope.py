"""The team filter of a program figure, in SQL: one team for the CLI's ``--team``, or what
a web viewer may see (the rule of :func:`drillbook.domain.account.access.can_see_team`:
an admin every team, an account its own team and organisation-wide records, a guest
nothing), so a chart never counts a row the viewer could not open."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, false, or_
from sqlalchemy.sql.elements import ColumnElement

from drillbook.domain.account.access import Principal


def team_clause(
    column: Any, team: str | None = None, viewer: Principal | None = None
) -> ColumnElement[bool] | None:
    """The WHERE clause for ``column`` (a team column), or None when nothing is filtered."""
    clauses: list[ColumnElement[bool]] = []
    if team is not None:
        clauses.append(column == team)
    if viewer is not None and not viewer.is_admin:
        if viewer.is_guest:
            clauses.append(false())
        elif viewer.team is None:
            clauses.append(column.is_(None))
        else:
            clauses.append(or_(column == viewer.team, column.is_(None)))
    if not clauses:
        return None
    if len(clauses) == 1:
        return clauses[0]
    return and_(*clauses)
