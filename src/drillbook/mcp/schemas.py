"""The typed outputs of the MCP tools: read models built from the domain's records.

Field names are the ones the CLI's ``--json`` prints, so an agent and a script read the
same words.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from drillbook.domain.exercise.models import Exercise, ExerciseEvent
from drillbook.domain.exercise.timeline import format_offset
from drillbook.domain.exercise.views import ExerciseStatusView, status_view


class ProblemView(BaseModel):
    location: str
    level: str
    code: str
    message: str


class ScenarioSummary(BaseModel):
    id: str
    title: str
    category: str | None
    difficulty: str | None
    duration: str
    builtin: bool


class GeneratedScenario(BaseModel):
    scenario_id: str
    title: str
    path: str | None = Field(description="Where it was written in the library, if saved.")
    problems: list[ProblemView] = Field(description="Lint problems (empty: clean).")
    tests: list[str] = Field(description="Approvals, allow-lists and credentials it tests.")
    notice: str | None = None
    text: str = Field(description="The scenario as YAML.")


class LintView(BaseModel):
    scenario_id: str
    problems: list[ProblemView]


class ScriptLine(BaseModel):
    minute: int
    kind: str
    phase: str
    text: str
    owner: str | None
    details: list[str]


class PlanView(BaseModel):
    scenario: str
    title: str
    duration_minutes: int
    variations: list[str]
    timeline: list[ScriptLine]
    observer_checklist: list[str]
    notice: str | None = None
    markdown: str


class DocumentView(BaseModel):
    exercise: str | None = None
    markdown: str


class EventView(BaseModel):
    id: int
    offset: str
    at: datetime
    kind: str
    author: str | None
    role: str | None
    phase: str | None
    text: str | None

    @classmethod
    def of(cls, event: ExerciseEvent, offsets: dict[int, Any]) -> EventView:
        return cls(
            id=event.id,
            offset=format_offset(offsets[event.id]),
            at=event.at,
            kind=event.kind,
            author=event.author,
            role=event.role,
            phase=event.phase,
            text=event.text,
        )


class ExerciseView(ExerciseStatusView):
    """``exercise status --json`` and ``/api``'s status, plus what the call warned about:
    the agent reads the same fields in the same names as the CLI and the web."""

    warnings: list[str] = Field(default_factory=list)

    @classmethod
    def of(cls, exercise: Exercise, warnings: list[str] | None = None) -> ExerciseView:
        return cls(**status_view(exercise).model_dump(), warnings=list(warnings or []))


class EvidenceView(BaseModel):
    kind: str
    text: str
    event_id: int | None
    offset: str | None


class GapView(BaseModel):
    description: str
    change_type: str
    capability: str
    severity: str
    proposed_remediation: str
    evidence: list[EvidenceView]


class DraftView(BaseModel):
    exercise: str
    by_model: bool
    notice: str
    gaps: list[GapView]
    saved: list[str] = Field(description="Finding ids opened (save=true).")


class RankedFix(BaseModel):
    rank: int
    id: str
    score: float
    change_type: str | None
    capability: str | None
    severity: str
    owner: str | None
    description: str
    recurred_in: list[str]
    why: str


class FollowupItemView(BaseModel):
    exercise: str
    finding: str
    moved: bool
    status: str
    owner: str | None
    target_date: date | None
    last_change: date | None


class FollowupView(BaseModel):
    days: int
    recorded: list[str]
    total: int  # every fix followed up; ``items`` holds at most the call's ``limit``
    unmoved: int  # how many did not move (they come first in ``items``)
    items: list[FollowupItemView]


class DrillCheckView(BaseModel):
    plan: str
    technique: str
    name: str
    decision: str
    reason: str | None


class ScorecardSummary(BaseModel):
    name: str
    document: dict[str, Any]


class DrillRunView(BaseModel):
    id: str
    plan: str
    status: str
    abort_reason: str | None
    techniques: list[dict[str, Any]]
