"""What the people in the room add to a live exercise besides decisions: the comms lead's
drafts and the observer's gaps.

Both are ordinary timeline events, so they are part of the record, the report and the
change feed like everything else:

- a comms draft is a ``note`` whose ``data.comms`` names its audience (customer or
  internal); a new draft for the same audience supersedes the old one in the view, and
  both stay in the timeline;
- an observer note is an ``observation``; tagging it as a gap sets ``data.gap`` on that
  event (the text and time never change), and the finding it became is named in
  ``data.finding``.
"""

from __future__ import annotations

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from drillbook.domain.exercise.enums import EventKind
from drillbook.domain.exercise.models import Exercise, ExerciseEvent
from drillbook.domain.exercise.service import log_event
from drillbook.errors import NotFoundError, StateError

COMMS_AUDIENCES = ("customer", "internal")
MAX_TEXT = 10_000


def _clean(text: str, what: str) -> str:
    body = text.strip()
    if not body:
        raise StateError(f"an empty {what} is not logged; write it first")
    if len(body) > MAX_TEXT:
        raise StateError(f"a {what} is limited to {MAX_TEXT} characters")
    return body


def record_comms(
    session: Session,
    exercise: Exercise,
    *,
    audience: str,
    text: str,
    author: str | None = None,
    role: str | None = None,
) -> ExerciseEvent:
    """Keep a draft of the customer or internal message in the timeline."""
    if audience not in COMMS_AUDIENCES:
        raise StateError(f"a comms draft is for one of: {', '.join(COMMS_AUDIENCES)}")
    body = _clean(text, "comms draft")
    return log_event(
        session,
        exercise,
        EventKind.NOTE,
        text=body,
        author=author,
        role=role,
        data={"comms": audience},
    )


def observation(exercise: Exercise, event_id: int) -> ExerciseEvent:
    for event in exercise.events:
        if event.id == event_id and event.kind == EventKind.OBSERVATION:
            return event
    raise NotFoundError(f"no observer note {event_id} in {exercise.label}")


def tag_gap(exercise: Exercise, event_id: int, *, gap: bool = True) -> ExerciseEvent:
    """Mark (or unmark) an observer note as a gap worth a finding."""
    event = observation(exercise, event_id)
    if not gap and event.data.get("finding"):
        raise StateError(f"note {event_id} already became {event.data['finding']}")
    event.data = {**event.data, "gap": gap}
    flag_modified(event, "data")
    return event


def link_finding(exercise: Exercise, event_id: int, finding_id: str) -> ExerciseEvent:
    event = observation(exercise, event_id)
    event.data = {**event.data, "gap": True, "finding": finding_id}
    flag_modified(event, "data")
    return event


def comms_drafts(exercise: Exercise) -> dict[str, ExerciseEvent]:
    """The latest draft per audience."""
    latest: dict[str, ExerciseEvent] = {}
    for event in exercise.events:
        audience = event.data.get("comms") if event.kind == EventKind.NOTE else None
        if isinstance(audience, str):
            latest[audience] = event
    return latest
