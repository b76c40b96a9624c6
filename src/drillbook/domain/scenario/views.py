"""Typed read models of library scenarios for the web API."""

from __future__ import annotations

from pydantic import BaseModel

from drillbook.library.loader import LoadedScenario


class ScenarioSummaryView(BaseModel):
    id: str
    title: str
    category: str | None
    difficulty: str | None
    duration: str
    builtin: bool


def scenario_summary(loaded: LoadedScenario) -> ScenarioSummaryView:
    scenario = loaded.scenario
    return ScenarioSummaryView(
        id=scenario.id,
        title=scenario.title,
        category=scenario.category.value if scenario.category else None,
        difficulty=scenario.difficulty.value if scenario.difficulty else None,
        duration=scenario.duration,
        builtin=loaded.builtin,
    )
