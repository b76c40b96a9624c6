"""Typed read models of library scenarios for the web API."""

from __future__ import annotations

from pydantic import BaseModel

from drillbook.domain.scenario.models import Scenario


class ScenarioSummaryView(BaseModel):
    id: str
    title: str
    category: str | None
    difficulty: str | None
    duration: str
    builtin: bool


def scenario_summary(scenario: Scenario, *, builtin: bool) -> ScenarioSummaryView:
    """The list entry for one scenario (``builtin``: shipped with drillbook, not the user's)."""
    return ScenarioSummaryView(
        id=scenario.id,
        title=scenario.title,
        category=scenario.category.value if scenario.category else None,
        difficulty=scenario.difficulty.value if scenario.difficulty else None,
        duration=scenario.duration,
        builtin=builtin,
    )
