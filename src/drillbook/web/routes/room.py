"""What people do in a live exercise, through the JSON API (``room.js`` posts here).

Every route: who is asking, may they (``domain.account.access``), one call to the
exercise services, one audit line, then a signal to the change feed so every browser
following the exercise sees it. The CSRF token is checked before any of this runs
(:mod:`drillbook.web.security`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeVar

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from drillbook.domain.account.access import (
    Principal,
    may_draft_comms,
    require_exercise,
    require_facilitator,
    require_record,
)
from drillbook.domain.account.service import create_invitation
from drillbook.domain.exercise import service
from drillbook.domain.exercise.enums import EventKind
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.exercise.room import record_comms, tag_gap
from drillbook.domain.exercise.views import RoomView, room_view
from drillbook.domain.scenario.enums import Phase
from drillbook.errors import AccessDenied, StateError
from drillbook.flows.exercise_room import gap_to_finding
from drillbook.web.app import context
from drillbook.web.auth import record_change, signed_in
from drillbook.web.params import EventId, ExerciseId

router = APIRouter(prefix="/api/exercises", tags=["exercise room"])
T = TypeVar("T")
Text = Field(min_length=1, max_length=10_000)


class Done(BaseModel):
    ok: bool = True
    event_id: int | None = None
    finding: str | None = None
    exercise_id: int | None = None
    link: str | None = None


class InjectBody(BaseModel):
    number: int | None = Field(default=None, ge=1, le=10_000)
    text: str | None = Field(default=None, min_length=1, max_length=10_000)


class PhaseBody(BaseModel):
    phase: Phase | None = None


class TextBody(BaseModel):
    text: str = Text


class CommsBody(BaseModel):
    audience: Literal["customer", "internal"]
    text: str = Text


class GapBody(BaseModel):
    gap: bool = True


class FindingBody(BaseModel):
    severity: Literal["critical", "high", "medium", "low"]
    owner: str = Field(default="", max_length=200)


class InvitationBody(BaseModel):
    seat: str = Field(min_length=1, max_length=80)
    name: str = Field(min_length=1, max_length=200)


class StartBody(BaseModel):
    scenario: str = Field(min_length=1, max_length=200)
    team: str | None = Field(default=None, max_length=200)
    seats: dict[str, str] = Field(default_factory=dict, max_length=50)
    start: bool = True


def _act(
    request: Request,
    exercise_id: int,
    action: str,
    work: Callable[[Session, Principal, Exercise], T],
) -> T:
    """Run ``work`` in one transaction with an audit line, then tell the feed."""
    web = context(request)
    with web.writing() as session:
        who = signed_in(request, session)
        exercise = service.get_exercise(session, exercise_id)
        require_exercise(who, exercise)
        result = work(session, who, exercise)
        event_id = getattr(result, "id", None)
        record_change(request, session, who, action, exercise.label, event_id=event_id)
    web.hub.signal(exercise_id)
    return result


def _facilitate(who: Principal, exercise: Exercise) -> str:
    require_facilitator(who, exercise, None)
    return who.name


@router.post("/{exercise_id}/inject", response_model=Done)
def drop_inject(request: Request, exercise_id: ExerciseId, body: InjectBody) -> Done:
    event = _act(
        request,
        exercise_id,
        "drop_inject",
        lambda s, who, x: service.drop_inject(
            s, x, number=body.number, text=body.text, author=_facilitate(who, x)
        ),
    )
    return Done(event_id=event.id)


@router.post("/{exercise_id}/phase", response_model=Done)
def next_phase(request: Request, exercise_id: ExerciseId, body: PhaseBody) -> Done:
    event = _act(
        request,
        exercise_id,
        "set_phase",
        lambda s, who, x: service.set_phase(s, x, body.phase, author=_facilitate(who, x)),
    )
    return Done(event_id=event.id)


def _lifecycle(request: Request, exercise_id: int, action: str) -> Done:
    steps = {
        "start": service.start,
        "pause": service.pause,
        "resume": service.resume,
        "end": service.end,
    }
    event = _act(
        request,
        exercise_id,
        action,
        lambda s, who, x: steps[action](s, x, author=_facilitate(who, x)),
    )
    return Done(event_id=event.id)


@router.post("/{exercise_id}/start", response_model=Done)
def start(request: Request, exercise_id: ExerciseId) -> Done:
    return _lifecycle(request, exercise_id, "start")


@router.post("/{exercise_id}/pause", response_model=Done)
def pause(request: Request, exercise_id: ExerciseId) -> Done:
    return _lifecycle(request, exercise_id, "pause")


@router.post("/{exercise_id}/resume", response_model=Done)
def resume(request: Request, exercise_id: ExerciseId) -> Done:
    return _lifecycle(request, exercise_id, "resume")


@router.post("/{exercise_id}/end", response_model=Done)
def end(request: Request, exercise_id: ExerciseId) -> Done:
    """End the exercise (it goes to review); its invitation links stop working."""
    return _lifecycle(request, exercise_id, "end")


def _record(kind: EventKind, text: str) -> Callable[[Session, Principal, Exercise], object]:
    def work(session: Session, who: Principal, exercise: Exercise) -> object:
        require_record(who, exercise, kind)
        return service.record(session, exercise, kind, text, author=who.name, role=who.seat)

    return work


@router.post("/{exercise_id}/decisions", response_model=Done)
def decide(request: Request, exercise_id: ExerciseId, body: TextBody) -> Done:
    event = _act(request, exercise_id, "decision", _record(EventKind.DECISION, body.text))
    return Done(event_id=getattr(event, "id", None))


@router.post("/{exercise_id}/observations", response_model=Done)
def observe(request: Request, exercise_id: ExerciseId, body: TextBody) -> Done:
    event = _act(request, exercise_id, "observation", _record(EventKind.OBSERVATION, body.text))
    return Done(event_id=getattr(event, "id", None))


@router.post("/{exercise_id}/comms", response_model=Done)
def draft_comms(request: Request, exercise_id: ExerciseId, body: CommsBody) -> Done:
    def work(session: Session, who: Principal, exercise: Exercise) -> object:
        if not may_draft_comms(who, exercise):
            raise AccessDenied("only the comms lead drafts messages here")
        return record_comms(
            session,
            exercise,
            audience=body.audience,
            text=body.text,
            author=who.name,
            role=who.seat,
        )

    event = _act(request, exercise_id, "comms_draft", work)
    return Done(event_id=getattr(event, "id", None))


@router.post("/{exercise_id}/observations/{event_id}/gap", response_model=Done)
def mark_gap(request: Request, exercise_id: ExerciseId, event_id: EventId, body: GapBody) -> Done:
    def work(session: Session, who: Principal, exercise: Exercise) -> object:
        require_record(who, exercise, EventKind.OBSERVATION)
        return tag_gap(exercise, event_id, gap=body.gap)

    _act(request, exercise_id, "tag_gap" if body.gap else "untag_gap", work)
    return Done(event_id=event_id)


@router.post("/{exercise_id}/observations/{event_id}/finding", response_model=Done)
def gap_finding(
    request: Request, exercise_id: ExerciseId, event_id: EventId, body: FindingBody
) -> Done:
    program = context(request).library().program

    def work(session: Session, who: Principal, exercise: Exercise) -> object:
        require_record(who, exercise, EventKind.OBSERVATION)
        if who.is_guest and who.seat != "observer":
            raise AccessDenied("only observers and facilitators turn gaps into findings")
        return gap_to_finding(
            session,
            exercise,
            event_id,
            severity=body.severity,
            owner=body.owner,
            author=who.name,
            sla=program.sla if program else None,
        )

    finding = _act(request, exercise_id, "gap_to_finding", work)
    return Done(event_id=event_id, finding=getattr(finding, "id", None))


@router.post("/{exercise_id}/invitations", response_model=Done)
def invite(request: Request, exercise_id: ExerciseId, body: InvitationBody) -> Done:
    """An invitation link for one seat (shown once; only its digest is kept)."""

    def work(session: Session, who: Principal, exercise: Exercise) -> str:
        require_facilitator(who, exercise, None)
        _, token = create_invitation(
            session, exercise, seat=body.seat, display_name=body.name, created_by=who.label
        )
        service.assign_roles(session, exercise, {body.seat: body.name}, author=who.name)
        return token

    token = _act(request, exercise_id, "invite", work)
    return Done(exercise_id=exercise_id, link=f"/join/{token}")


@router.post("", response_model=Done)
def start_from_scenario(request: Request, body: StartBody) -> Done:
    """Create an exercise from a library scenario, assign its seats, and start it."""
    web = context(request)
    scenario = web.library().scenario(body.scenario).scenario
    with web.writing() as session:
        who = signed_in(request, session)
        team = body.team or who.team
        require_facilitator(who, None, team)
        if team is None and not who.is_admin:
            raise StateError("give the exercise a team")
        exercise = service.create_exercise(
            session, scenario=scenario, team=team, assignments=body.seats, author=who.name
        )
        if body.start:
            service.start(session, exercise, author=who.name)
        record_change(
            request,
            session,
            who,
            "create_exercise",
            exercise.label,
            scenario=scenario.id,
            started=body.start,
        )
        exercise_id = exercise.id
    web.hub.signal(exercise_id)
    return Done(exercise_id=exercise_id, link=f"/exercises/{exercise_id}")


@router.get("/{exercise_id}", response_model=RoomView)
def exercise_api(request: Request, exercise_id: ExerciseId) -> RoomView:
    """This viewer's cut of the live exercise."""
    from drillbook.domain.account.access import audience_of

    with context(request).store.session() as session:
        who = signed_in(request, session)
        exercise = service.get_exercise(session, exercise_id)
        require_exercise(who, exercise)
        return room_view(exercise, audience_of(who, exercise).value)
