"""Exercise services: create a run, move it through its lifecycle, log its timeline.

Plain functions taking the session as their first argument (the Dispatch shape). Each
writes timeline events only; the clock, phase and inject schedule are derived from them
by :mod:`drillbook.domain.exercise.timeline` whenever they are needed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.domain.exercise.enums import (
    TRANSITIONS,
    EventKind,
    ExerciseStatus,
    canonical_role,
)
from drillbook.domain.exercise.evaluation import resolve_criterion
from drillbook.domain.exercise.models import Exercise, ExerciseEvent
from drillbook.domain.exercise.timeline import ExerciseClock, derive_clock, next_phase, schedule
from drillbook.domain.scenario.enums import Phase
from drillbook.domain.scenario.models import Scenario
from drillbook.errors import NotFoundError, StateError


def scenario_of(exercise: Exercise) -> Scenario | None:
    """The scenario as it was when the exercise was created (snapshot)."""
    if not exercise.scenario_document:
        return None
    return Scenario.model_validate(exercise.scenario_document)


def clock_of(exercise: Exercise, scenario: Scenario | None = None) -> ExerciseClock:
    """The exercise clock now; pass ``scenario`` when the caller already parsed the
    snapshot (the live view asks every second)."""
    return derive_clock(exercise.events, scenario or scenario_of(exercise), clock.now())


def scheduled_start(exercise: Exercise) -> datetime | None:
    """The session's planned start time, when one was given (``--date 2026-05-04T14:00Z``);
    its day is always ``exercise.run_date``."""
    for event in reversed(exercise.events):
        if event.kind == EventKind.SCHEDULED and event.data.get("start"):
            return clock.ensure_utc(datetime.fromisoformat(str(event.data["start"])))
    return None


def reschedule(
    session: Session, exercise: Exercise, when: date | datetime, *, author: str | None = None
) -> ExerciseEvent | None:
    """Set the session's date (and start time, when ``when`` has one) on the exercise,
    logged as an event; None when nothing changed."""
    start = clock.ensure_utc(when) if isinstance(when, datetime) else None
    day = start.date() if start is not None else when
    assert isinstance(day, date)
    if day == exercise.run_date and (start is None or start == scheduled_start(exercise)):
        return None
    previous = exercise.run_date
    exercise.run_date = day
    return log_event(
        session,
        exercise,
        EventKind.SCHEDULED,
        text=f"session on {start.isoformat() if start else day.isoformat()}",
        author=author,
        data={
            "date": day.isoformat(),
            "start": start.isoformat() if start else None,
            "previous_date": previous.isoformat() if previous else None,
        },
    )


def status_of(exercise: Exercise) -> ExerciseStatus:
    return ExerciseStatus(exercise.status)


def parse_exercise_id(text: str | int) -> int:
    value = str(text).strip().upper().removeprefix("EX-")
    # ASCII digits only ("²".isdigit() is True) and short enough for an INTEGER column
    if not (value.isascii() and value.isdigit() and len(value) <= 9):
        raise NotFoundError(f"'{text}' is not an exercise id (write 3 or EX-3)")
    return int(value)


def get_exercise(session: Session, exercise_id: str | int | None = None) -> Exercise:
    """The exercise with ``exercise_id``; without one, the exercise running (or paused) in
    this library, else the only one not yet started, else the only one in review (waiting
    for its report), so a facilitator types little."""
    if exercise_id is not None:
        found = session.get(Exercise, parse_exercise_id(exercise_id))
        if found is None:
            raise NotFoundError(
                f"no exercise EX-{parse_exercise_id(exercise_id)} (see `drillbook exercise list`)"
            )
        return found
    for statuses in (
        (ExerciseStatus.RUNNING, ExerciseStatus.PAUSED),
        (ExerciseStatus.PLANNED, ExerciseStatus.BRIEFED),
        (ExerciseStatus.IN_REVIEW,),
    ):
        candidates = list(
            session.scalars(
                select(Exercise)
                .where(Exercise.status.in_([str(s) for s in statuses]))
                .order_by(Exercise.id)
            )
        )
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            ids = ", ".join(c.label for c in candidates)
            raise StateError(f"several exercises could be meant ({ids}); give the id")
    raise NotFoundError(
        "no exercise is running; give an exercise id (see `drillbook exercise list`)"
    )


def list_exercises(
    session: Session,
    *,
    status: str | None = None,
    team: str | None = None,
    after: int | None = None,
    limit: int | None = None,
) -> list[Exercise]:
    """Exercises in id order; ``after`` (an id) and ``limit`` cut one page by keyset."""
    query = select(Exercise).order_by(Exercise.id)
    if after is not None:
        query = query.where(Exercise.id > after)
    if limit is not None:
        query = query.limit(limit)
    if status:
        key = status.strip().lower().replace("-", "_").replace(" ", "_")
        if key not in {s.value for s in ExerciseStatus}:
            allowed = ", ".join(ExerciseStatus)
            raise StateError(f"unknown exercise status '{status}'; use one of: {allowed}")
        query = query.where(Exercise.status == key)
    if team:
        query = query.where(Exercise.team == team)
    return list(session.scalars(query))


def current_roles(exercise: Exercise) -> dict[str, str]:
    """Role -> person, from the latest role assignment of each role."""
    roles: dict[str, str] = {}
    for event in exercise.events:
        if event.kind == EventKind.ROLE_ASSIGNED and event.role:
            person = event.data.get("person")
            if person:
                roles[event.role] = str(person)
            else:
                roles.pop(event.role, None)
    return roles


def role_of(exercise: Exercise, person: str | None) -> str | None:
    if person is None:
        return None
    for role, who in current_roles(exercise).items():
        if who == person:
            return role
    return None


def log_event(
    session: Session,
    exercise: Exercise,
    kind: EventKind,
    *,
    text: str | None = None,
    author: str | None = None,
    role: str | None = None,
    phase: Phase | None = None,
    data: Mapping[str, Any] | None = None,
) -> ExerciseEvent:
    """Append one event at ``clock.now()``, stamped with the phase current at that moment."""
    if phase is None:
        phase = clock_of(exercise).phase
    event = ExerciseEvent(
        at=clock.now(),
        kind=str(kind),
        author=author,
        role=canonical_role(role) if role else role_of(exercise, author),
        phase=str(phase) if phase else None,
        text=text,
        data=dict(data or {}),
    )
    exercise.events.append(event)
    session.flush()
    return event


def _require_live(exercise: Exercise, action: str) -> None:
    if not status_of(exercise).live:
        raise StateError(
            f"{exercise.label} is {exercise.status}; it must be running to {action} "
            f"(start it with `drillbook exercise start {exercise.id}`)"
        )


def change_status(
    session: Session,
    exercise: Exercise,
    to: ExerciseStatus,
    *,
    author: str | None = None,
    reason: str | None = None,
) -> ExerciseEvent:
    current = status_of(exercise)
    if to not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing (final state)"
        raise StateError(f"{exercise.label} is {current}; it cannot become {to} (next: {allowed})")
    # Compare-and-set: the console, the CLI and the web app are separate processes, and two
    # of them acting at once must not both pause (or start) the same run.
    moved = session.execute(
        update(Exercise)
        .where(Exercise.id == exercise.id, Exercise.status == str(current))
        .values(status=str(to))
    )
    if getattr(moved, "rowcount", 1) != 1:
        raise StateError(
            f"{exercise.label} was changed by someone else just now; look again "
            f"(`drillbook exercise show {exercise.id}`)"
        )
    event = log_event(
        session,
        exercise,
        EventKind.STATUS_CHANGED,
        text=reason,
        author=author,
        data={"from": str(current), "to": str(to)},
    )
    exercise.status = str(to)
    return event


def create_exercise(
    session: Session,
    *,
    scenario: Scenario,
    run_date: date | None = None,
    team: str | None = None,
    assignments: Mapping[str, str] | None = None,
    author: str | None = None,
    title: str | None = None,
) -> Exercise:
    exercise = Exercise(
        scenario_id=scenario.id,
        title=title or scenario.title,
        team=team,
        status=str(ExerciseStatus.PLANNED),
        run_date=run_date or clock.today(),
        created_at=clock.now(),
        scenario_document=scenario.model_dump(mode="json", exclude_none=True),
        participants=[],
        next_actions=[],
        next_tabletop=None,
        reported_at=None,
    )
    session.add(exercise)
    session.flush()
    if assignments:
        assign_roles(session, exercise, assignments, author=author)
    return exercise


def assign_roles(
    session: Session,
    exercise: Exercise,
    assignments: Mapping[str, str],
    *,
    author: str | None = None,
) -> None:
    """Log one ``role_assigned`` event per role (its time is what criteria such as
    "incident commander identified within 5 minutes" are measured by). Whether the seats
    are well filled is :func:`drillbook.planning.roles.assign_roles`'s to say."""
    for role, person in assignments.items():
        name = canonical_role(role) or role
        log_event(
            session,
            exercise,
            EventKind.ROLE_ASSIGNED,
            text=f"{person} is {name}",
            author=author,
            role=name,
            data={"person": person, "as_written": role},
        )
        if person not in exercise.participants:
            exercise.participants = [*exercise.participants, person]


def mark_briefed(session: Session, exercise: Exercise, *, author: str | None = None) -> None:
    change_status(
        session,
        exercise,
        ExerciseStatus.BRIEFED,
        author=author,
        reason="brief sent to participants",
    )


def start(session: Session, exercise: Exercise, *, author: str | None = None) -> ExerciseEvent:
    """Planned or briefed -> running, in the first phase. A paused run is resumed, not
    started again: starting would move its phase back to the first one."""
    if status_of(exercise) == ExerciseStatus.PAUSED:
        raise StateError(
            f"{exercise.label} is paused; resume it (`drillbook exercise resume {exercise.id}`)"
        )
    event = change_status(
        session, exercise, ExerciseStatus.RUNNING, author=author, reason="exercise started"
    )
    if exercise.run_date != clock.today():
        # the stored date is the day it ran: the report and its deadlines read it
        reschedule(session, exercise, clock.today(), author=author)
    set_phase(session, exercise, next_phase(None), author=author)
    return event


def pause(
    session: Session, exercise: Exercise, *, author: str | None = None, reason: str | None = None
) -> ExerciseEvent:
    return change_status(
        session, exercise, ExerciseStatus.PAUSED, author=author, reason=reason or "clock paused"
    )


def resume(session: Session, exercise: Exercise, *, author: str | None = None) -> ExerciseEvent:
    """Paused -> running. A run not yet started is started (that also opens its first
    phase), not resumed."""
    if status_of(exercise) in (ExerciseStatus.PLANNED, ExerciseStatus.BRIEFED):
        raise StateError(
            f"{exercise.label} has not started; start it (`drillbook exercise start {exercise.id}`)"
        )
    return change_status(
        session, exercise, ExerciseStatus.RUNNING, author=author, reason="clock resumed"
    )


def end(session: Session, exercise: Exercise, *, author: str | None = None) -> ExerciseEvent:
    return change_status(
        session,
        exercise,
        ExerciseStatus.IN_REVIEW,
        author=author,
        reason="exercise ended; in review",
    )


def set_phase(
    session: Session,
    exercise: Exercise,
    phase: Phase | None = None,
    *,
    author: str | None = None,
) -> ExerciseEvent:
    """Move to ``phase`` (default: the next one in the seed's order)."""
    _require_live(exercise, "change phase")
    current = clock_of(exercise).phase
    target = phase or next_phase(current)
    if current == target:
        raise StateError(f"{exercise.label} is already in the {target.label} phase")
    return log_event(
        session,
        exercise,
        EventKind.PHASE_STARTED,
        text=f"{target.label} phase",
        author=author,
        phase=target,
        data={"from": str(current) if current else None},
    )


def drop_inject(
    session: Session,
    exercise: Exercise,
    *,
    number: int | None = None,
    text: str | None = None,
    author: str | None = None,
) -> ExerciseEvent:
    """Drop a scheduled inject (``number``, default the next not yet dropped) or, with
    ``text``, an ad hoc one."""
    _require_live(exercise, "drop an inject")
    if text is not None:
        return log_event(
            session,
            exercise,
            EventKind.INJECT,
            text=text,
            author=author,
            data={"ad_hoc": True, "number": None},
        )
    state = clock_of(exercise)
    planned = schedule(scenario_of(exercise))
    if number is None:
        if state.next_inject is None:
            raise StateError(
                "every scheduled inject has been dropped; use --text for an ad hoc one"
            )
        chosen = state.next_inject
    else:
        matches = [s for s in planned if s.number == number]
        if not matches:
            raise NotFoundError(f"no scheduled inject {number} (1..{len(planned)})")
        chosen = matches[0]
        if chosen.number in state.dropped:
            raise StateError(f"inject {number} was already dropped")
    return log_event(
        session,
        exercise,
        EventKind.INJECT,
        text=chosen.inject.description.strip(),
        author=author,
        data={
            "ad_hoc": False,
            "number": chosen.number,
            "scheduled": chosen.inject.time,
            "expects_decision": chosen.inject.expects_decision,
        },
    )


def criterion_keys(exercise: Exercise, written: Sequence[str]) -> list[str]:
    """The keys of the success criteria ``written`` names (``2``, ``C2`` or an id)."""
    scenario = scenario_of(exercise)
    criteria = scenario.criteria if scenario else []
    keys: list[str] = []
    for text in written:
        key = resolve_criterion(criteria, text)
        if key not in keys:
            keys.append(key)
    return keys


def record(
    session: Session,
    exercise: Exercise,
    kind: EventKind,
    text: str,
    *,
    author: str | None = None,
    role: str | None = None,
    meets: Sequence[str] = (),
) -> ExerciseEvent:
    """Log a decision, observation or note; ``meets`` names the success criteria it is
    evidence for (the only way, with a scenario's explicit mapping, to meet one)."""
    if kind not in (EventKind.DECISION, EventKind.OBSERVATION, EventKind.NOTE):
        raise ValueError(f"record() logs decisions, observations and notes, not {kind}")
    if not text.strip():
        raise StateError(f"an empty {kind} is not logged; write what happened")
    if kind != EventKind.NOTE:
        _require_live(exercise, f"log {'an' if kind == EventKind.OBSERVATION else 'a'} {kind}")
    keys = criterion_keys(exercise, meets)
    data = {"criteria": keys} if keys else None
    return log_event(
        session, exercise, kind, text=text.strip(), author=author, role=role, data=data
    )


def tag_evidence(
    session: Session,
    exercise: Exercise,
    event_id: int,
    meets: Sequence[str],
    *,
    author: str | None = None,
) -> ExerciseEvent:
    """Name an earlier event as evidence for success criteria (for a role assignment, or a
    decision logged without ``--meets``). The evidence keeps the event's own time."""
    target = next((e for e in exercise.events if e.id == event_id), None)
    if target is None or target.kind in (EventKind.CRITERION_TAGGED, EventKind.STATUS_CHANGED):
        raise NotFoundError(
            f"{exercise.label} has no event {event_id} that can be evidence "
            f"(see `drillbook exercise timeline -e {exercise.id}`)"
        )
    if not meets:
        raise StateError("name the criterion it meets, e.g. C2 (see `drillbook exercise show`)")
    keys = criterion_keys(exercise, meets)
    return log_event(
        session,
        exercise,
        EventKind.CRITERION_TAGGED,
        text=f"event {event_id} meets {', '.join(keys)}",
        author=author,
        data={"event": event_id, "criteria": keys},
    )


def set_next_actions(exercise: Exercise, actions: list[str]) -> None:
    exercise.next_actions = list(actions)
