"""Typed read models of an exercise, shared by the CLI's ``--json``, the web pages, the
JSON API under ``/api`` and the live feed, so all of them say the same thing in the same
field names.

:func:`status_view` is the clock at a glance (``exercise status --json``);
:func:`room_view` is what one audience of a live exercise sees: the facilitator gets the
script and the next inject's text, observers get their notes, participants and the wall
screen get neither. Everything is computed from the stored timeline (see
:mod:`drillbook.domain.exercise.timeline`), so a reload or a restart shows the same.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from drillbook.domain.exercise.enums import EventKind
from drillbook.domain.exercise.evaluation import evaluate_criteria, offsets
from drillbook.domain.exercise.models import Exercise, ExerciseEvent
from drillbook.domain.exercise.room import comms_drafts
from drillbook.domain.exercise.service import clock_of, current_roles, scenario_of
from drillbook.domain.exercise.timeline import ExerciseClock, format_offset, schedule
from drillbook.domain.scenario.enums import PHASE_ORDER

AudienceName = Literal["facilitator", "observer", "participant", "room"]

KIND_LABELS = {
    "status_changed": "Status",
    "phase_started": "Phase",
    "inject": "New information",
    "decision": "Decision",
    "observation": "Observer note",
    "note": "Note",
    "role_assigned": "Seat",
    "report_written": "Report",
}


def role_label(role: str | None) -> str:
    return role.replace("_", " ").capitalize() if role else ""


class ExerciseStatusView(BaseModel):
    """The clock of one exercise (``exercise status --json`` and ``/api/exercises``)."""

    exercise: str
    id: int
    scenario: str
    title: str
    status: str
    team: str | None
    date: date
    started_at: datetime | None
    ended_at: datetime | None
    elapsed: str
    elapsed_seconds: int
    phase: str | None
    scheduled_phase: str | None
    next_inject: int | None
    next_inject_due_in_seconds: int | None
    injects_due: list[int]
    roles: dict[str, str]


def status_view(exercise: Exercise, clock: ExerciseClock | None = None) -> ExerciseStatusView:
    ticker = clock or clock_of(exercise)
    due_in = ticker.next_due_in
    return ExerciseStatusView(
        exercise=exercise.label,
        id=exercise.id,
        scenario=exercise.scenario_id,
        title=exercise.title,
        status=exercise.status,
        team=exercise.team,
        date=exercise.run_date,
        started_at=ticker.started_at,
        ended_at=ticker.ended_at,
        elapsed=format_offset(ticker.elapsed),
        elapsed_seconds=int(ticker.elapsed.total_seconds()),
        phase=str(ticker.phase) if ticker.phase else None,
        scheduled_phase=str(ticker.scheduled_phase) if ticker.scheduled_phase else None,
        next_inject=ticker.next_inject.number if ticker.next_inject else None,
        next_inject_due_in_seconds=int(due_in.total_seconds()) if due_in is not None else None,
        injects_due=[s.number for s in ticker.due],
        roles=current_roles(exercise),
    )


class PhaseView(BaseModel):
    name: str
    span: str
    state: Literal["done", "current", "todo"]
    weight: int


class CriterionView(BaseModel):
    text: str
    state: Literal["met", "unmet", "pending"]
    reason: str
    evidence: str | None = Field(description="T+mm:ss and text of the event that met it")


class SeatView(BaseModel):
    role: str
    role_label: str
    person: str


class TimelineItem(BaseModel):
    id: int
    offset: str = Field(description="exercise time, T+mm:ss (pauses excluded)")
    at: datetime
    kind: str
    kind_label: str
    text: str
    who: str
    role_label: str
    gap: bool = False
    finding: str | None = None
    comms: str | None = None


class ScriptItem(BaseModel):
    number: int
    at: str
    text: str
    dropped: bool
    due: bool


class RoomView(BaseModel):
    """One audience's view of a live exercise (the web page, the API and the feed)."""

    id: int
    label: str
    title: str
    team: str | None
    audience: AudienceName
    status: str
    running: bool
    paused: bool
    live: bool
    elapsed_seconds: int
    elapsed: str
    remaining_seconds: int | None
    phase: str
    phases: list[PhaseView]
    next_inject: int | None
    next_inject_at: str | None
    next_inject_due_in_seconds: int | None
    next_inject_preview: str | None = Field(description="facilitators only")
    injects_due: list[int]
    script: list[ScriptItem] = Field(description="facilitators only")
    roles: list[SeatView]
    criteria: list[CriterionView]
    comms: dict[str, str]
    latest: TimelineItem | None = Field(description="the newest inject or decision")
    timeline: list[TimelineItem] = Field(description="oldest first")
    revision: int = Field(description="id of the newest event; grows with every change")


def _timeline_item(event: ExerciseEvent, offset: timedelta) -> TimelineItem:
    comms = event.data.get("comms") if event.kind == EventKind.NOTE else None
    kind_label = KIND_LABELS.get(event.kind, event.kind.replace("_", " ").capitalize())
    if isinstance(comms, str):
        kind_label = f"{comms.capitalize()} message draft"
    finding = event.data.get("finding")
    return TimelineItem(
        id=event.id,
        offset=format_offset(offset),
        at=event.at,
        kind=event.kind,
        kind_label=kind_label,
        text=event.text or "",
        who=event.author or "",
        role_label=role_label(event.role),
        gap=bool(event.data.get("gap")),
        finding=str(finding) if finding else None,
        comms=comms if isinstance(comms, str) else None,
    )


def _shown_to(event: ExerciseEvent, audience: AudienceName) -> bool:
    """Observer notes stay with observers and facilitators, off the room screen."""
    if event.kind == EventKind.OBSERVATION:
        return audience in ("facilitator", "observer")
    return True


def room_view(exercise: Exercise, audience: AudienceName) -> RoomView:
    scenario = scenario_of(exercise)
    ticker = clock_of(exercise, scenario)
    events = list(exercise.events)
    at = offsets(events)
    phase = ticker.phase or ticker.scheduled_phase
    current_index = PHASE_ORDER.index(phase) if phase else -1
    phases = [
        PhaseView(
            name=w.name.label,
            span=f"{w.start}–{w.end}",
            state=(
                "current"
                if PHASE_ORDER.index(w.name) == current_index
                else "done"
                if PHASE_ORDER.index(w.name) < current_index
                else "todo"
            ),
            weight=max(w.end_minute - w.start_minute, 1),
        )
        for w in (scenario.phase_windows() if scenario else [])
    ]
    criteria = []
    if scenario:
        for result in evaluate_criteria(scenario.criteria, events):
            state: Literal["met", "unmet", "pending"] = (
                "met" if result.met else "pending" if result.met is None else "unmet"
            )
            if result.met is False and result.evidence is None and ticker.status.live:
                state = "pending"
            evidence = (
                f"{format_offset(result.offset or timedelta(0))} {result.evidence.text or ''}"
                if result.evidence is not None
                else None
            )
            criteria.append(
                CriterionView(
                    text=result.criterion.text,
                    state=state,
                    reason=result.reason,
                    evidence=evidence,
                )
            )
    shown = [e for e in events if _shown_to(e, audience)]
    timeline = [_timeline_item(e, at[e.id]) for e in shown]
    latest = next(
        (t for t in reversed(timeline) if t.kind in (EventKind.INJECT, EventKind.DECISION)), None
    )
    upcoming = ticker.next_inject
    due_in = ticker.next_due_in
    facilitator = audience == "facilitator"
    due_numbers = {s.number for s in ticker.due}
    script = (
        [
            ScriptItem(
                number=s.number,
                at=f"T+{s.inject.time}",
                text=s.inject.description.strip(),
                dropped=s.number in ticker.dropped,
                due=s.number in due_numbers,
            )
            for s in schedule(scenario)
        ]
        if facilitator
        else []
    )
    return RoomView(
        id=exercise.id,
        label=exercise.label,
        title=exercise.title,
        team=exercise.team,
        audience=audience,
        status=str(ticker.status),
        running=ticker.status.value == "running",
        paused=ticker.paused,
        live=ticker.status.live,
        elapsed_seconds=int(ticker.elapsed.total_seconds()),
        elapsed=format_offset(ticker.elapsed),
        remaining_seconds=(
            int(ticker.remaining.total_seconds()) if ticker.remaining is not None else None
        ),
        phase=phase.label if phase else "Not started",
        phases=phases,
        next_inject=upcoming.number if upcoming else None,
        next_inject_at=upcoming.inject.time if upcoming else None,
        next_inject_due_in_seconds=int(due_in.total_seconds()) if due_in is not None else None,
        next_inject_preview=(
            upcoming.inject.description.strip() if facilitator and upcoming else None
        ),
        injects_due=sorted(due_numbers),
        script=script,
        roles=[
            SeatView(role=r, role_label=role_label(r), person=p)
            for r, p in sorted(current_roles(exercise).items())
        ],
        criteria=criteria,
        comms={k: v.text or "" for k, v in comms_drafts(exercise).items()},
        latest=latest,
        timeline=timeline,
        revision=max((e.id for e in events), default=0),
    )
