"""Read models of an exercise shared by the CLI's ``--json``, the web pages, the JSON API
and the live feed: the same field names and the same evaluation everywhere, so
``exercise show`` and the room's big screen can never disagree about a criterion or the
next inject."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from drillbook.domain.exercise.enums import EventKind
from drillbook.domain.exercise.evaluation import (
    CriterionResult,
    CriterionState,
    EvidenceItem,
    evaluate_criteria,
    offsets,
)
from drillbook.domain.exercise.models import Exercise, ExerciseEvent
from drillbook.domain.exercise.room import comms_drafts
from drillbook.domain.exercise.service import clock_of, current_roles, scenario_of
from drillbook.domain.exercise.timeline import ExerciseClock, format_offset, schedule
from drillbook.domain.scenario.enums import PHASE_ORDER
from drillbook.domain.scenario.models import Scenario


def evidence_dict(item: EvidenceItem) -> dict[str, Any]:
    return {
        "event": item.event.id,
        "kind": item.event.kind,
        "offset": item.time,
        "at": item.event.at,
        "author": item.event.author,
        "text": item.event.text,
        "source": item.source,
    }


def criterion_dict(result: CriterionResult) -> dict[str, Any]:
    """One criterion's evaluation: ``state`` is open, met or missed."""
    return {
        "key": result.key,
        "number": result.number,
        "text": result.criterion.text,
        "deadline": format_offset(result.deadline) if result.deadline is not None else None,
        "state": str(result.state),
        "met": result.met,
        "detail": result.reason,
        "evidence": [evidence_dict(e) for e in result.evidence],
        "suggestions": [evidence_dict(e) for e in result.suggestions],
    }


def criteria_view(
    exercise: Exercise, scenario: Scenario | None, clock: ExerciseClock
) -> list[dict[str, Any]]:
    if scenario is None:
        return []
    return [criterion_dict(r) for r in evaluate_criteria(scenario.criteria, exercise.events, clock)]


def injects_view(clock: ExerciseClock) -> dict[str, Any]:
    """What is due and what comes next. ``next_inject_in`` counts down to the first
    scheduled inject not yet due, so injects waiting to be dropped never hide the ones
    still to come (the live view once said "no more scheduled information" at T+09:53
    with six injects left)."""
    upcoming = clock.upcoming
    due_in = clock.next_due_in
    return {
        "injects_due": [s.number for s in clock.due],
        "injects_pending": clock.pending,
        "next_inject": clock.next_inject.number if clock.next_inject else None,
        "next_inject_at": upcoming.inject.time if upcoming else None,
        "next_inject_in": format_offset(due_in).removeprefix("T+") if due_in is not None else None,
        "next_inject_due_seconds": int(upcoming.due.total_seconds()) if upcoming else None,
        "next_inject_due_in_seconds": int(due_in.total_seconds()) if due_in is not None else None,
    }


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
    next_inject_at: str | None
    next_inject_in: str | None
    next_inject_due_seconds: int | None
    next_inject_due_in_seconds: int | None
    injects_due: list[int]
    injects_pending: int
    roles: dict[str, str]


def status_view(exercise: Exercise, clock: ExerciseClock | None = None) -> ExerciseStatusView:
    ticker = clock or clock_of(exercise)
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
        **injects_view(ticker),
        roles=current_roles(exercise),
    )


class PhaseView(BaseModel):
    name: str
    span: str
    state: Literal["done", "current", "todo"]
    weight: int


class CriterionView(BaseModel):
    key: str = Field(description="what evidence is tagged with: the criterion's id or C<n>")
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


_CRITERION_STATES: dict[CriterionState, Literal["met", "unmet", "pending"]] = {
    CriterionState.MET: "met",
    CriterionState.MISSED: "unmet",
    CriterionState.OPEN: "pending",
}


def _criterion_view(result: CriterionResult) -> CriterionView:
    """The room's line for a criterion: open until its deadline, met only by evidence that
    names it (the same evaluation as ``exercise show`` and the report)."""
    first = result.first
    return CriterionView(
        key=result.key,
        text=result.criterion.text,
        state=_CRITERION_STATES[result.state],
        reason=result.reason,
        evidence=f"{first.time} {first.event.text or ''}".strip() if first else None,
    )


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
    criteria = [
        _criterion_view(result)
        for result in (
            evaluate_criteria(scenario.criteria, events, ticker) if scenario is not None else []
        )
    ]
    shown = [e for e in events if _shown_to(e, audience)]
    timeline = [_timeline_item(e, at[e.id]) for e in shown]
    latest = next(
        (t for t in reversed(timeline) if t.kind in (EventKind.INJECT, EventKind.DECISION)), None
    )
    upcoming = ticker.next_inject  # the next to drop (the facilitator's preview)
    due_in = ticker.next_due_in  # counts down to the first inject not yet due
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
        next_inject_at=ticker.upcoming.inject.time if ticker.upcoming else None,
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
