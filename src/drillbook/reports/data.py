"""What a tabletop report says, as plain data: gathered from the store by
:func:`drillbook.flows.exercise_report.build_report`, turned into one document model by
:mod:`drillbook.reports.document` and rendered to Markdown, HTML and PDF.

It lives here, not beside the flow that fills it, so the renderers never import a flow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from drillbook.domain.exercise.enums import EventKind
from drillbook.domain.finding.models import Finding
from drillbook.planning.brief import weekend_note
from drillbook.reports.figures import Bars, Spec

COUNSEL_LABEL = "Prepared at the direction of counsel for incident-response improvement."


@dataclass(frozen=True)
class ReportEvent:
    offset: str
    at: datetime
    kind: str
    text: str
    author: str | None
    role: str | None
    phase: str | None

    @property
    def who(self) -> str:
        if self.author and self.role:
            return f"{self.author} ({self.role})"
        return self.author or self.role or ""


@dataclass(frozen=True)
class PhaseSection:
    phase: str
    label: str
    started: str | None
    events: list[ReportEvent]

    @property
    def decisions(self) -> list[ReportEvent]:
        return [e for e in self.events if e.kind == EventKind.DECISION]


@dataclass(frozen=True)
class CriterionRow:
    key: str
    text: str
    deadline: str | None
    outcome: str  # open, met, missed
    detail: str  # the evidence that met it, or why it is open or missed
    evidence_time: str | None  # exercise time of the first evidence


@dataclass
class ReportData:
    exercise_label: str
    title: str
    scenario_id: str
    team: str | None
    run_date: date
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    elapsed: str
    prepared_on: date
    report_due: datetime | None
    on_time: bool | None
    participants: list[tuple[str, str]]
    initial_state: str
    duration: str
    schedule: list[tuple[str, str]]
    discussion_questions: list[str]
    phases: list[PhaseSection]
    criteria: list[CriterionRow]
    unanswered: list[ReportEvent]
    fixes: list[Finding]
    next_tabletop: date
    next_actions: list[str]
    timeline: list[ReportEvent]
    organisation: str | None = None
    first_reported_at: datetime | None = None  # when an earlier copy was written
    counsel: bool = False
    distribution: list[str] = field(default_factory=list)
    counsel_label: str = COUNSEL_LABEL
    # finding id -> its tracker issue keys ("SEC-41"), when `finding sync` linked any
    tracker_keys: dict[str, list[str]] = field(default_factory=dict)
    # figures: this exercise's findings by severity (with the fix list), and the team's
    # program around it (``program_scope`` says which team and which dates)
    fix_figure: Bars | None = None
    program_figures: list[Spec] = field(default_factory=list)
    program_scope: str = ""

    @property
    def report_due_note(self) -> str:
        """ " (a Sunday)" when the report deadline falls on a weekend."""
        return weekend_note(self.report_due)

    @property
    def missed(self) -> list[CriterionRow]:
        return [c for c in self.criteria if c.outcome == "missed"]
