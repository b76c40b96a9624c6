"""Record real incidents and say which exercises rehearsed them beforehand.

The second seed's retro integration: "every real incident's retrospective references which
exercise(s) covered or didn't cover the scenario". :func:`covering_exercises` answers it
from the record: exercises of the same team that ran before the incident on the same
scenario or a scenario of the same category.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.incident.models import Incident
from drillbook.domain.scenario.enums import Category
from drillbook.errors import StateError


def _category(value: str | None) -> str | None:
    if value is None:
        return None
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return str(Category(key))
    except ValueError:
        allowed = ", ".join(str(c) for c in Category)
        raise StateError(f"unknown incident category '{value}'; use one of: {allowed}") from None


def add_incident(
    session: Session,
    *,
    occurred_on: date,
    title: str,
    team: str | None = None,
    category: str | None = None,
    scenario_id: str | None = None,
    summary: str | None = None,
    link: str | None = None,
    author: str | None = None,
) -> Incident:
    if not title.strip():
        raise StateError("an incident needs a title (--title)")
    if occurred_on > clock.today():
        raise StateError(f"incident date {occurred_on} is in the future")
    incident = Incident(
        occurred_on=occurred_on,
        title=title.strip(),
        team=team,
        category=_category(category),
        scenario_id=scenario_id,
        summary=summary,
        link=link,
        recorded_at=clock.now(),
        recorded_by=author,
    )
    session.add(incident)
    session.flush()
    return incident


def list_incidents(
    session: Session, *, since: date | None = None, team: str | None = None
) -> list[Incident]:
    query = select(Incident).order_by(Incident.occurred_on, Incident.id)
    if since is not None:
        query = query.where(Incident.occurred_on >= since)
    if team is not None:
        query = query.where(Incident.team == team)
    return list(session.scalars(query))


def covering_exercises(
    session: Session, incident: Incident, scenario_categories: dict[str, str | None]
) -> list[Exercise]:
    """Exercises run before the incident, by its team, that rehearsed its scenario or its
    category (``scenario_categories`` maps scenario id to category, from the library)."""
    query = select(Exercise).where(Exercise.run_date <= incident.occurred_on)
    if incident.team is not None:
        query = query.where(Exercise.team == incident.team)
    wanted = {incident.scenario_id} if incident.scenario_id else set()
    if incident.category:
        wanted |= {sid for sid, cat in scenario_categories.items() if cat == incident.category}
    if not wanted:
        return []
    query = query.where(Exercise.scenario_id.in_(sorted(wanted))).order_by(Exercise.run_date)
    return list(session.scalars(query))
