"""The facilitator's minute-by-minute outline (first seed, Admin-Agent pass 2).

"Tabletops wander into philosophy without a script": the outline says what the
facilitator reads at minute 0, which information drops when (the scenario's injects, on
schedule), the decision the team must make in each phase and who owns it, the
pre-scripted escalations that stop an Incident Lead from solving it in five minutes, and
the Observer's checklist. The four phases follow the seed's 0-15/15-30/30-50/50-60 split
scaled to the session's length; variations (:mod:`drillbook.planning.variations`) change
the length, add breakout rooms, a regulator and notification clocks, or a product scope.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from drillbook.documents.durations import minutes
from drillbook.domain.scenario.enums import Phase
from drillbook.domain.scenario.models import (
    PhaseWindow,
    Scenario,
    default_phase_windows,
    phase_at,
)
from drillbook.planning.regulatory import clocks_for
from drillbook.planning.roles import RolePlan, assign_roles, role_label
from drillbook.planning.variations import (
    BREAKOUT_ROLES,
    Variations,
    planned_duration,
    scope_statement,
)

PHASE_PROMPTS = {
    Phase.DETECTION: "Read the brief. The team asks clarifying questions. The Incident Lead "
    "names what they would check first. The Observer logs the first three actions.",
    Phase.CONTAINMENT: "The Technical Lead names what they would revoke or disable. "
    "Decisions are logged with timestamps.",
    Phase.COMMUNICATION: "The Comms Lead drafts the customer message and the internal "
    "update. The team critiques it. Real wording matters.",
    Phase.POST_INCIDENT_REVIEW: "The Observer reads back what happened. The team names "
    "fixes. Owners and dates go on each fix before anyone leaves.",
}
DEFAULT_DECISIONS = {
    Phase.DETECTION: (
        "Who is the Incident Lead, and what do they check first?",
        "incident_commander",
    ),
    Phase.CONTAINMENT: (
        "Who has the authority to revoke the API key, and do we do it now?",
        "technical_lead",
    ),
    Phase.COMMUNICATION: ("Do we notify the customer now, or after we know more?", "comms_lead"),
    Phase.POST_INCIDENT_REVIEW: (
        "Which fixes get an owner and a date before we leave?",
        "incident_commander",
    ),
}
DEFAULT_ESCALATIONS = (
    (15, "if containment is agreed early", "The customer escalates: their CTO calls your CEO."),
    (
        30,
        "if nobody has mentioned notification",
        "A regulator emails asking whether a notifiable incident occurred.",
    ),
    (45, "if the Incident Lead declares it over", "A second incident appears on another agent."),
)
_KIND_ORDER = {"phase": 0, "clock": 1, "inject": 2, "breakout": 3, "escalation": 4, "decision": 5}


@dataclass(frozen=True)
class ScriptEntry:
    """One line of the outline: at ``minute``, the facilitator does ``text``."""

    minute: int
    kind: str
    phase: Phase
    text: str
    owner: str | None = None
    details: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "minute": self.minute,
            "kind": self.kind,
            "phase": self.phase.value,
            "text": self.text,
            "owner": self.owner,
            "details": list(self.details),
        }


@dataclass(frozen=True)
class ClockRow:
    jurisdiction: str
    label: str
    deadline: str
    trigger: str
    source: str
    due: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "jurisdiction": self.jurisdiction,
            "label": self.label,
            "deadline": self.deadline,
            "trigger": self.trigger,
            "source": self.source,
            "due": self.due.isoformat() if self.due else None,
        }


@dataclass
class FacilitatorScript:
    scenario_id: str
    title: str
    duration_minutes: int
    scenario_minutes: int
    opening: list[str]
    phases: list[PhaseWindow]
    entries: list[ScriptEntry]
    roles: RolePlan
    observer_checklist: list[str]
    variations: list[str] = field(default_factory=list)
    clocks: list[ClockRow] = field(default_factory=list)
    scope: str | None = None
    suggestion: str | None = None

    def at(self, minute: int, kind: str | None = None) -> list[ScriptEntry]:
        return [e for e in self.entries if e.minute == minute and (kind is None or e.kind == kind)]

    def as_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario_id,
            "title": self.title,
            "duration_minutes": self.duration_minutes,
            "scenario_minutes": self.scenario_minutes,
            "variations": self.variations,
            "scope": self.scope,
            "suggestion": self.suggestion,
            "opening": self.opening,
            "phases": [
                {
                    "name": p.name.value,
                    "label": p.name.label,
                    "start": round(p.start_minute),
                    "end": round(p.end_minute),
                }
                for p in self.phases
            ],
            "timeline": [e.as_dict() for e in self.entries],
            "roles": self.roles.as_dict(),
            "observer_checklist": self.observer_checklist,
            "notification_clocks": [c.as_dict() for c in self.clocks],
        }


def session_phases(scenario: Scenario, duration: int) -> list[PhaseWindow]:
    if not scenario.phases:
        return default_phase_windows(duration)
    factor = duration / scenario.duration_minutes
    return [
        PhaseWindow(
            name=p.name,
            start=f"{round(p.start_minute * factor)}m",
            end=f"{round(p.end_minute * factor)}m",
            goal=p.goal,
            questions=p.questions,
        )
        for p in scenario.phase_windows()
    ]


def _opening(
    scenario: Scenario, duration: int, roles: RolePlan, variations: Variations, scope: str | None
) -> list[str]:
    seated = ", ".join(
        f"{s.label}: {s.person or 'unassigned'}" for s in roles.seats if s.required or s.person
    )
    lines = [
        f'"This is a rehearsal. No production changes, no blame. We have {duration} '
        "minutes and four phases: detection, containment, communication, post-incident "
        'review."',
        f'"Seats today: {seated}. The Observer keeps the clock and stays silent."',
        '"I will drop new information on schedule. Treat it as real; answer as you would '
        'on the day, with the tools and people you really have."',
    ]
    if variations.distributed:
        lines.append(
            '"We are on video. Type decisions into the shared doc as you make '
            'them; the Comms Lead and Technical Lead will get breakout rooms."'
        )
    if variations.first_tabletop:
        lines.append(
            '"This is our first tabletop: the format matters more than the '
            'answers today. Ask when you do not know what to do next."'
        )
    if scope:
        lines.append(f'"{scope}"')
    lines.append("Read the scenario statement aloud:\n" + scenario.initial_state.strip())
    return lines


def _decision_entries(
    scenario: Scenario, phases: list[PhaseWindow], factor: float
) -> list[ScriptEntry]:
    out = []
    for window in phases:
        points = [d for d in scenario.decision_points if d.phase == window.name]
        middle = round(window.middle_minute)
        if not points:
            question, owner = DEFAULT_DECISIONS[window.name]
            out.append(ScriptEntry(middle, "decision", window.name, question, role_label(owner)))
            continue
        for point in points:
            minute = round(minutes(point.at) * factor) if point.at else middle
            details: tuple[str, ...] = (
                (f"Options: {' / '.join(point.options)}",) if point.options else ()
            )
            details += tuple(
                f"The Incident Lead must figure out: {item}" for item in point.must_figure_out
            )
            out.append(
                ScriptEntry(
                    minute,
                    "decision",
                    window.name,
                    point.question,
                    role_label(point.owner_role or "incident_commander"),
                    details,
                )
            )
    return out


def _escalation_entries(
    scenario: Scenario, phases: list[PhaseWindow], duration: int, factor: float
) -> list[ScriptEntry]:
    out = []
    if scenario.escalations:
        for index, escalation in enumerate(scenario.escalations):
            if escalation.at is not None:
                minute = round(minutes(escalation.at) * factor)
            else:
                minute = round(DEFAULT_ESCALATIONS[min(index, 2)][0] * duration / 60)
            out.append(
                ScriptEntry(
                    minute,
                    "escalation",
                    phase_at(phases, minute),
                    escalation.description,
                    details=(f"When: {escalation.trigger}",),
                )
            )
        return out
    for at, trigger, text in DEFAULT_ESCALATIONS:
        minute = round(at * duration / 60)
        out.append(
            ScriptEntry(
                minute, "escalation", phase_at(phases, minute), text, details=(f"When: {trigger}",)
            )
        )
    return out


def _clock_rows(variations: Variations, start: datetime | None) -> list[ClockRow]:
    return [
        ClockRow(
            c.jurisdiction.value,
            c.label,
            c.offset_text,
            c.trigger,
            c.source,
            c.due(start) if start else None,
        )
        for c in clocks_for(list(variations.chosen_jurisdictions))
    ]


def _variation_entries(
    variations: Variations, phases: list[PhaseWindow], clocks: list[ClockRow]
) -> list[ScriptEntry]:
    out = []
    # a scenario's written phases may leave one out: its entries then go where it would be
    by_phase = {p.name: p for p in phases}
    if variations.distributed:
        for phase in (Phase.CONTAINMENT, Phase.COMMUNICATION):
            window = by_phase.get(phase)
            if window is None:
                continue
            back = round(window.start_minute + (window.end_minute - window.start_minute) * 0.6)
            leads = " and ".join(role_label(r) for r in BREAKOUT_ROLES)
            out.append(
                ScriptEntry(
                    round(window.start_minute),
                    "breakout",
                    phase,
                    f"Breakout rooms: the {leads} work in parallel; everyone "
                    f"back in the main room at minute {back}.",
                )
            )
    if clocks:
        first = by_phase.get(Phase.DETECTION, phases[0])
        out.append(
            ScriptEntry(
                round(first.start_minute),
                "clock",
                first.name,
                "Notification clocks start now (T+0 is when the team became aware).",
                role_label("regulator"),
                tuple(
                    f"{c.jurisdiction}: {c.label} within {c.deadline} ({c.source})" for c in clocks
                ),
            )
        )
        comms = by_phase.get(Phase.COMMUNICATION)
        # the seed's communication phase starts half-way through
        asked = round(comms.start_minute if comms else phases[-1].end_minute / 2)
        out.append(
            ScriptEntry(
                asked,
                "clock",
                comms.name if comms else phase_at(phases, asked),
                "The regulator (played) asks: which notices are due, to whom, "
                "and by when? The team names each clock and its owner.",
                role_label("regulator"),
            )
        )
    return out


def _observer_checklist(scenario: Scenario, factor: float) -> list[str]:
    items = [
        "Start the clock at minute 0; note the minute of every phase change.",
        "Log the first three actions: what, who, at which minute.",
        "Timestamp every decision: the decision, who made it, the minute.",
        "Note every question nobody in the room could answer.",
        "Note who the team would have called and could not reach.",
    ]
    for criterion in scenario.criteria:
        line = f"Check: {criterion.text}"
        deadline = criterion.deadline_minutes
        if deadline is not None and factor != 1:
            line += f" (at this session's pace: by minute {round(deadline * factor)})"
        items.append(line)
    items.append("At the start of post-incident review, read back what happened.")
    return items


def build_script(
    scenario: Scenario,
    variations: Variations | None = None,
    roles: RolePlan | None = None,
    *,
    session_start: datetime | None = None,
    suggestion: str | None = None,
) -> FacilitatorScript:
    """The outline for running ``scenario`` with ``variations``."""
    variations = variations or Variations()
    duration = planned_duration(scenario, variations)
    factor = duration / scenario.duration_minutes
    phases = session_phases(scenario, duration)
    roles = roles or assign_roles(scenario, {}, None, extra_roles=variations.extra_roles())
    scope = scope_statement(variations)
    clocks = _clock_rows(variations, session_start)
    entries: list[ScriptEntry] = []
    for window in phases:
        entries.append(
            ScriptEntry(
                round(window.start_minute),
                "phase",
                window.name,
                f"{window.name.label} (minute {round(window.start_minute)}-"
                f"{round(window.end_minute)})",
                details=(PHASE_PROMPTS[window.name], *window.questions),
            )
        )
    for inject in scenario.injects:
        minute = round(inject.minute * factor)
        audience = ", ".join(role_label(r) for r in inject.audience) or "everyone"
        entries.append(
            ScriptEntry(
                minute,
                "inject",
                phase_at(phases, minute),
                inject.description.strip(),
                details=(f"To: {audience}",),
            )
        )
    entries += _decision_entries(scenario, phases, factor)
    entries += _escalation_entries(scenario, phases, duration, factor)
    entries += _variation_entries(variations, phases, clocks)
    entries.sort(key=lambda e: (e.minute, _KIND_ORDER[e.kind]))
    return FacilitatorScript(
        scenario_id=scenario.id,
        title=scenario.title,
        duration_minutes=duration,
        scenario_minutes=round(scenario.duration_minutes),
        opening=_opening(scenario, duration, roles, variations, scope),
        phases=phases,
        entries=entries,
        roles=roles,
        observer_checklist=_observer_checklist(scenario, factor),
        variations=variations.applied(),
        clocks=clocks,
        scope=scope,
        suggestion=suggestion,
    )
