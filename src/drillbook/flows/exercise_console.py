"""The observer's console: turn one typed line into one timeline event.

A plain line is an observation. A line starting with ``/`` is a command: ``/decide``,
``/note``, ``/phase``, ``/inject``, ``/assign``, ``/tag``, ``/pause``, ``/resume``,
``/end``, ``/status``, ``/quit``, ``/help``. Leading ``@C2`` words on a decision, note or
observation tag it as evidence for success criterion C2 (the console's key for
``--meets``). Each line is handled in its own transaction by the
caller, so killing the console loses at most the line being typed.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from drillbook.domain.exercise import service
from drillbook.domain.exercise.enums import EventKind
from drillbook.domain.exercise.models import Exercise, ExerciseEvent
from drillbook.domain.scenario.enums import Phase, parse_phase
from drillbook.errors import StateError

HELP = (
    "type a line to log an observation; commands: /decide TEXT, /note TEXT, "
    "/phase [NAME], /inject [TEXT], /assign ROLE=PERSON, /tag EVENT CRITERION, /pause, "
    "/resume, /end, /status, /quit, /help; start a text with @C2 to tag it as evidence "
    "for criterion C2"
)


@dataclass(frozen=True)
class Outcome:
    event: ExerciseEvent | None = None
    message: str | None = None
    quit: bool = False
    show_status: bool = False


def _phase(text: str) -> Phase | None:
    if not text:
        return None
    try:
        return parse_phase(text)
    except ValueError as exc:
        raise StateError(str(exc)) from None


def split_tags(text: str) -> tuple[list[str], str]:
    """``@C2 @C3 text`` -> (["C2", "C3"], "text"): the criteria a line is evidence for."""
    words = text.split(" ")
    tags: list[str] = []
    while words and words[0].startswith("@") and len(words[0]) > 1:
        tags.append(words.pop(0)[1:])
    return tags, " ".join(words).strip()


def _record(
    session: Session, exercise: Exercise, kind: EventKind, text: str, author: str
) -> Outcome:
    meets, body = split_tags(text)
    return Outcome(event=service.record(session, exercise, kind, body, author=author, meets=meets))


def handle_line(session: Session, exercise: Exercise, line: str, author: str) -> Outcome:
    text = line.strip()
    if not text:
        return Outcome()
    if not text.startswith("/"):
        return _record(session, exercise, EventKind.OBSERVATION, text, author)
    command, _, rest = text[1:].partition(" ")
    command, rest = command.lower(), rest.strip()
    if command in ("quit", "exit", "q"):
        return Outcome(quit=True, message="left the console; the exercise keeps its clock")
    if command in ("help", "?"):
        return Outcome(message=HELP)
    if command == "status":
        return Outcome(show_status=True)
    if command in ("decide", "decision"):
        return _record(session, exercise, EventKind.DECISION, rest, author)
    if command == "note":
        return _record(session, exercise, EventKind.NOTE, rest, author)
    if command == "tag":
        target, _, criteria = rest.partition(" ")
        if not target.isdigit() or not criteria.strip():
            raise StateError("write /tag EVENT CRITERION (event number from the timeline)")
        return Outcome(
            event=service.tag_evidence(
                session, exercise, int(target), criteria.split(), author=author
            )
        )
    if command == "phase":
        return Outcome(event=service.set_phase(session, exercise, _phase(rest), author=author))
    if command == "inject":
        return Outcome(
            event=service.drop_inject(session, exercise, text=rest or None, author=author)
        )
    if command == "assign":
        role, sep, person = rest.partition("=")
        if not sep or not role.strip() or not person.strip():
            raise StateError("write /assign ROLE=PERSON")
        service.assign_roles(session, exercise, {role.strip(): person.strip()}, author=author)
        return Outcome(event=exercise.events[-1])
    if command == "pause":
        return Outcome(event=service.pause(session, exercise, author=author))
    if command == "resume":
        return Outcome(event=service.resume(session, exercise, author=author))
    if command == "end":
        return Outcome(event=service.end(session, exercise, author=author), quit=True)
    raise StateError(f"unknown command /{command}; {HELP}")
