"""Score a run against its scenario's success criteria, from the timeline alone.

A criterion is met when an event of the evidence's kind (same role, phase and text when
the evidence names them) happened by the deadline in *exercise* time: pauses do not
count against the team. "Incident commander identified within 5 minutes" is met when the
``role_assigned`` event for the incident commander (or incident lead: same seat) comes
before T+05:00; a role assigned before the start counts as T+00:00. Unmet criteria and
scheduled injects that no decision followed are the "what the team missed" of the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from drillbook.domain.exercise.enums import EventKind, canonical_role
from drillbook.domain.exercise.models import ExerciseEvent
from drillbook.domain.exercise.timeline import elapsed_at, running_intervals
from drillbook.domain.scenario.criteria import Criterion


@dataclass(frozen=True)
class CriterionResult:
    criterion: Criterion
    met: bool | None  # None: not measurable from the timeline
    evidence: ExerciseEvent | None
    offset: timedelta | None  # exercise time of the evidence
    reason: str

    @property
    def gap(self) -> bool:
        return self.met is False


@dataclass(frozen=True)
class UnansweredInject:
    inject: ExerciseEvent
    offset: timedelta


def offsets(events: Sequence[ExerciseEvent]) -> dict[int, timedelta]:
    """Exercise time (pauses excluded) of every event, keyed by event id."""
    intervals = running_intervals(events)
    return {e.id: elapsed_at(intervals, e.at) for e in events}


def _matches(event: ExerciseEvent, criterion: Criterion) -> bool:
    evidence = criterion.evidence
    assert evidence is not None
    if event.kind != str(evidence.event):
        return False
    if evidence.role and canonical_role(event.role) != canonical_role(evidence.role):
        return False
    if evidence.phase and event.phase != str(evidence.phase):
        return False
    return not (evidence.contains and evidence.contains.lower() not in (event.text or "").lower())


def _minutes(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    return f"{seconds // 60}:{seconds % 60:02d}"


def evaluate_criteria(
    criteria: Sequence[Criterion], events: Sequence[ExerciseEvent]
) -> list[CriterionResult]:
    at = offsets(events)
    results = []
    for criterion in criteria:
        if criterion.evidence is None:
            results.append(
                CriterionResult(
                    criterion, None, None, None, "not measurable from the timeline; judge in review"
                )
            )
            continue
        matching = [e for e in events if _matches(e, criterion)]
        deadline = criterion.deadline_minutes
        limit = timedelta(minutes=deadline) if deadline is not None else None
        what = str(criterion.evidence.event).replace("_", " ")
        if not matching:
            results.append(
                CriterionResult(criterion, False, None, None, f"no matching {what} on the timeline")
            )
            continue
        first = matching[0]
        offset = at[first.id]
        if limit is None or offset <= limit:
            results.append(
                CriterionResult(criterion, True, first, offset, f"{what} at {_minutes(offset)}")
            )
        else:
            results.append(
                CriterionResult(
                    criterion,
                    False,
                    first,
                    offset,
                    f"first {what} at {_minutes(offset)}, after the {_minutes(limit)} deadline",
                )
            )
    return results


def unanswered_injects(events: Sequence[ExerciseEvent]) -> list[UnansweredInject]:
    """Injects (scheduled ones that expect a decision, and ad hoc ones) after which no
    decision was logged before the next inject or the end of the timeline."""
    at = offsets(events)
    missed = []
    injects = [i for i, e in enumerate(events) if e.kind == EventKind.INJECT]
    for position, index in enumerate(injects):
        event = events[index]
        if event.data.get("expects_decision") is False:
            continue
        stop = injects[position + 1] if position + 1 < len(injects) else len(events)
        if not any(e.kind == EventKind.DECISION for e in events[index + 1 : stop]):
            missed.append(UnansweredInject(event, at[event.id]))
    return missed
