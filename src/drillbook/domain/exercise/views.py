"""Read models of an exercise shared by the CLI's ``--json``, the web live view and the
report: the same field names and the same evaluation everywhere, so ``exercise show``
and the room's big screen can never disagree about a criterion or the next inject."""

from __future__ import annotations

from typing import Any

from drillbook.domain.exercise.evaluation import CriterionResult, EvidenceItem, evaluate_criteria
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.exercise.timeline import ExerciseClock, format_offset
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
