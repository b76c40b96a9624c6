"""The scenario schema.

The second seed's ``scenarios/data-exfil-via-mcp.yaml`` is the core and loads exactly as
written: ``id``, ``title``, ``duration``, ``participants``, ``initial_state``,
``injects``, ``discussion_questions``, ``success_criteria``. Every other key is an
optional extension for what the seeds describe (phases on the clock, decision points,
escalations, difficulty, ...). Unknown keys are errors, so a typo never passes silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from drillbook.documents.durations import DurationText, minutes
from drillbook.domain.scenario.criteria import Criterion, parse_criterion
from drillbook.domain.scenario.enums import (
    PHASE_ORDER,
    Category,
    Difficulty,
    Phase,
    ScenarioKind,
    Severity,
)

IDENTIFIER_MAX_LENGTH = 120
Identifier = Annotated[
    str,
    Field(
        min_length=1,
        max_length=IDENTIFIER_MAX_LENGTH,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Letters, digits, dot, dash and underscore; unique in the library.",
    ),
]
RoleName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=60,
        pattern=r"^[a-z][a-z0-9_]*$",
        description="snake_case role name, e.g. incident_commander, comms_lead",
    ),
]
Text = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Participant(_Strict):
    role: RoleName
    typical_attendee: str | None = None
    required: bool = Field(default=True, description="False for optional roles (facilitator).")
    responsibilities: str | None = None


class Inject(_Strict):
    """New information the facilitator drops at ``time`` after the start."""

    time: DurationText
    description: Text
    phase: Phase | None = Field(default=None, description="Phase the inject belongs to.")
    audience: list[RoleName] = Field(
        default_factory=list, description="Roles the inject is addressed to; empty means all."
    )
    expects_decision: bool = Field(
        default=True, description="False for colour-only injects the report should not flag."
    )

    @property
    def minute(self) -> float:
        return minutes(self.time)


class PhaseWindow(_Strict):
    """A phase on the clock, with the questions to put to the team in it."""

    name: Phase
    start: DurationText
    end: DurationText
    goal: str | None = None
    questions: list[Text] = Field(default_factory=list)

    @property
    def start_minute(self) -> float:
        return minutes(self.start)

    @property
    def end_minute(self) -> float:
        return minutes(self.end)

    @property
    def middle_minute(self) -> float:
        """Where a phase's decision goes when nobody wrote its time."""
        return self.start_minute + (self.end_minute - self.start_minute) / 2


class DecisionPoint(_Strict):
    """A decision the team must make; the Incident Lead figures out ``question``."""

    phase: Phase
    question: Text
    at: DurationText | None = None
    owner_role: RoleName | None = None
    options: list[Text] = Field(default_factory=list)
    must_figure_out: list[Text] = Field(
        default_factory=list, description="What the Incident Lead needs to establish first."
    )


class Escalation(_Strict):
    """Information that drops when the team moves too fast (first seed, troubleshooting)."""

    trigger: Text = Field(description="When to drop it, e.g. 'containment decided before 15m'.")
    description: Text
    phase: Phase | None = None
    at: DurationText | None = None


SuccessCriterion = str | Criterion


class Scenario(_Strict):
    """One tabletop scenario from the library."""

    # -- the seed's shape --------------------------------------------------------------
    id: Identifier
    title: Text
    duration: DurationText
    participants: list[Participant] = Field(min_length=1)
    initial_state: Text
    injects: list[Inject] = Field(min_length=1)
    discussion_questions: list[Text] = Field(default_factory=list)
    success_criteria: list[SuccessCriterion] = Field(default_factory=list)
    # -- extensions ----------------------------------------------------------------------
    kind: ScenarioKind = ScenarioKind.TABLETOP
    category: Category | None = None
    severity: Severity | None = None
    difficulty: Difficulty | None = None
    summary: str | None = None
    tags: list[str] = Field(
        default_factory=list,
        description="ATT&CK (T1567), OWASP LLM (LLM01) and MITRE ATLAS (AML.T0051) ids.",
    )
    phases: list[PhaseWindow] = Field(default_factory=list)
    decision_points: list[DecisionPoint] = Field(default_factory=list)
    escalations: list[Escalation] = Field(default_factory=list)
    owner: str | None = None
    last_reviewed: date | None = None
    variant_of: Identifier | None = Field(
        default=None, description="Id of the scenario this one is a gentler/harder variant of."
    )
    references: list[str] = Field(default_factory=list)

    @field_validator("duration")
    @classmethod
    def _duration_positive(cls, value: str) -> str:
        # a field validator (not a model one) so the error points at the duration's line
        if minutes(value) <= 0:
            raise ValueError("duration must be longer than zero")
        return value

    # -- derived views ---------------------------------------------------------------------
    @property
    def duration_minutes(self) -> float:
        return minutes(self.duration)

    @property
    def gentleness(self) -> tuple[int, int]:
        """Sort key for a first tabletop (first seed: pick the gentlest): difficulty
        (unrated counts as standard), then wrong-team exposure, the gentlest agent
        incident, before the others."""
        rank = (self.difficulty or Difficulty.STANDARD).rank
        return rank, 0 if self.category == Category.WRONG_TEAM_DATA_EXPOSURE else 1

    @property
    def roles(self) -> list[str]:
        return [p.role for p in self.participants]

    @property
    def criteria(self) -> list[Criterion]:
        """Every success criterion in structured form."""
        return [
            c if isinstance(c, Criterion) else parse_criterion(c) for c in self.success_criteria
        ]

    def phase_windows(self) -> list[PhaseWindow]:
        """The phases on the clock: as written, or the seed's 0-15/15-30/30-50/50-60 split
        scaled to the scenario's duration."""
        if self.phases:
            return sorted(self.phases, key=lambda p: p.start_minute)
        return default_phase_windows(self.duration_minutes)

    def phase_at(self, minute: float) -> Phase:
        return phase_at(self.phase_windows(), minute, before=PHASE_ORDER[0])

    def to_document(self) -> dict[str, Any]:
        """The scenario as YAML-ready data: seed keys first, unset extensions left out."""
        return self.model_dump(mode="json", exclude_defaults=True, exclude_none=True)


# The first seed's 60-minute split: detection 0-15, containment 15-30,
# communication 30-50, post-incident review 50-60.
_SEED_SPLIT = (
    (Phase.DETECTION, 0, 15),
    (Phase.CONTAINMENT, 15, 30),
    (Phase.COMMUNICATION, 30, 50),
    (Phase.POST_INCIDENT_REVIEW, 50, 60),
)


def default_phase_windows(duration_minutes: float) -> list[PhaseWindow]:
    """The seed's phase split scaled to ``duration_minutes`` (rounded to whole minutes)."""
    scale = duration_minutes / 60
    windows = []
    for phase, start, end in _SEED_SPLIT:
        windows.append(
            PhaseWindow(
                name=phase,
                start=f"{round(start * scale)}m",
                end=f"{round(end * scale)}m",
            )
        )
    return windows


def phase_at(
    windows: Sequence[PhaseWindow], minute: float, *, before: Phase | None = None
) -> Phase:
    """The phase running at ``minute``: the last of the start-ordered ``windows`` to have
    started. Before the first one starts it is ``before`` (default: the first window), so
    an inject or escalation always lands in some phase."""
    current = before if before is not None else windows[0].name
    for window in windows:
        if minute >= window.start_minute:
            current = window.name
    return current
