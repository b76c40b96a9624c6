"""Score a run against its scenario's success criteria, from evidence on the timeline.

A criterion is **open** until its deadline passes in *exercise* time (pauses do not count
against the team; a criterion without a deadline stays open until the run ends). It is
**met** by evidence that names it, logged by the deadline:

- an event tagged with the criterion when it was logged (``drillbook exercise decide
  --meets C2 ...``, the web form, the console's ``/decide @C2 ...``), or tagged later by a
  ``criterion_tagged`` event (``drillbook exercise tag EVENT C2``; the evidence's time is
  the tagged event's own time, so tagging in review does not move it);
- an event matching an explicit ``evidence:`` mapping written in the scenario.

Otherwise, once the deadline has passed (or the run has ended), it is **missed**. Words
in the sentence never decide: the events they point at are returned as *suggestions*,
for the facilitator to confirm by tagging. A role assigned before the start counts as
T+00:00. Unmet criteria and scheduled injects that no decision followed are the "what
the team missed" of the report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from drillbook.domain.exercise.enums import EventKind, ExerciseStatus, canonical_role
from drillbook.domain.exercise.models import ExerciseEvent
from drillbook.domain.exercise.timeline import (
    ExerciseClock,
    elapsed_at,
    format_offset,
    running_intervals,
)
from drillbook.domain.scenario.criteria import Criterion, Evidence
from drillbook.errors import NotFoundError

TAGGED = "tagged"
MAPPING = "scenario mapping"


class CriterionState(StrEnum):
    OPEN = "open"
    MET = "met"
    MISSED = "missed"


@dataclass(frozen=True)
class EvidenceItem:
    """One event offered as evidence for a criterion, with how it names the criterion."""

    event: ExerciseEvent
    offset: timedelta
    source: str  # TAGGED or MAPPING

    @property
    def time(self) -> str:
        return format_offset(self.offset)

    def describe(self) -> str:
        kind = self.event.kind.replace("_", " ")
        who = f" by {self.event.author}" if self.event.author else ""
        return f"{kind}{who} at {self.time}: {self.event.text or ''}".rstrip(": ")


@dataclass(frozen=True)
class CriterionResult:
    number: int  # 1-based, in the scenario's order
    key: str  # what evidence is tagged with: the criterion's id or C<number>
    criterion: Criterion
    state: CriterionState
    evidence: tuple[EvidenceItem, ...]  # every event that names it, earliest first
    deadline: timedelta | None
    suggestions: tuple[EvidenceItem, ...]  # events the sentence's words point at; not scored
    reason: str

    @property
    def met(self) -> bool | None:
        """True met, False missed, None still open."""
        return {CriterionState.MET: True, CriterionState.MISSED: False}.get(self.state)

    @property
    def gap(self) -> bool:
        return self.state == CriterionState.MISSED

    @property
    def first(self) -> EvidenceItem | None:
        return self.evidence[0] if self.evidence else None


@dataclass(frozen=True)
class UnansweredInject:
    inject: ExerciseEvent
    offset: timedelta


def offsets(events: Sequence[ExerciseEvent]) -> dict[int, timedelta]:
    """Exercise time (pauses excluded) of every event, keyed by event id."""
    intervals = running_intervals(events)
    return {e.id: elapsed_at(intervals, e.at) for e in events}


def criterion_key(criterion: Criterion, number: int) -> str:
    return criterion.id or f"C{number}"


def resolve_criterion(criteria: Sequence[Criterion], written: str) -> str:
    """The key of the criterion ``written`` names: ``2``, ``C2`` or the criterion's id."""
    text = written.strip()
    keys = [criterion_key(c, n) for n, c in enumerate(criteria, start=1)]
    for number, key in enumerate(keys, start=1):
        if text.lower() in (key.lower(), str(number), f"c{number}"):
            return key
    listed = ", ".join(keys) or "none: the scenario has no success criteria"
    raise NotFoundError(f"no success criterion '{written}' (criteria: {listed})")


def tagged_keys(events: Iterable[ExerciseEvent]) -> dict[int, set[str]]:
    """Event id -> the criterion keys it was tagged with, at logging time or later."""
    tags: dict[int, set[str]] = {}
    for event in events:
        if event.kind == EventKind.CRITERION_TAGGED:
            target = event.data.get("event")
            if isinstance(target, int):
                tags.setdefault(target, set()).update(map(str, event.data.get("criteria", [])))
        elif event.data.get("criteria"):
            tags.setdefault(event.id, set()).update(map(str, event.data["criteria"]))
    return tags


def _matches(event: ExerciseEvent, evidence: Evidence) -> bool:
    if event.kind != str(evidence.event):
        return False
    if evidence.role and canonical_role(event.role) != canonical_role(evidence.role):
        return False
    if evidence.phase and event.phase != str(evidence.phase):
        return False
    return not (evidence.contains and evidence.contains.lower() not in (event.text or "").lower())


def _closed(clock: ExerciseClock) -> bool:
    """True once no more evidence can be logged in exercise time: the run has ended."""
    return clock.status not in (
        ExerciseStatus.PLANNED,
        ExerciseStatus.BRIEFED,
        ExerciseStatus.RUNNING,
        ExerciseStatus.PAUSED,
    )


def _short(delta: timedelta) -> str:
    return format_offset(delta).removeprefix("T+")


def _judge(
    evidence: Sequence[EvidenceItem], deadline: timedelta | None, elapsed: timedelta, closed: bool
) -> tuple[CriterionState, str]:
    on_time = [e for e in evidence if deadline is None or e.offset <= deadline]
    if on_time:
        item = on_time[0]
        return CriterionState.MET, f"{item.source}: {item.describe()}"
    passed = closed or (deadline is not None and elapsed > deadline)
    if not passed:
        due = f"due by {_short(deadline)}" if deadline is not None else "due by the end"
        return CriterionState.OPEN, f"open: no evidence yet, {due}"
    if evidence:
        assert deadline is not None
        return (
            CriterionState.MISSED,
            f"first evidence at {_short(evidence[0].offset)}, after the {_short(deadline)} "
            "deadline",
        )
    return CriterionState.MISSED, "no evidence names this criterion"


def evaluate_criteria(
    criteria: Sequence[Criterion], events: Sequence[ExerciseEvent], clock: ExerciseClock
) -> list[CriterionResult]:
    """Every criterion's state as of ``clock`` (the one evaluation the CLI, the web view
    and the report all show)."""
    at = offsets(events)
    tags = tagged_keys(events)
    scored = [e for e in events if e.kind != EventKind.CRITERION_TAGGED]
    closed = _closed(clock)
    results = []
    for number, criterion in enumerate(criteria, start=1):
        key = criterion_key(criterion, number)
        evidence = [EvidenceItem(e, at[e.id], TAGGED) for e in scored if key in tags.get(e.id, ())]
        if criterion.evidence is not None:
            evidence += [
                EvidenceItem(e, at[e.id], MAPPING)
                for e in scored
                if _matches(e, criterion.evidence) and key not in tags.get(e.id, ())
            ]
        evidence.sort(key=lambda item: (item.offset, item.event.id))
        limit = criterion.deadline_minutes
        deadline = timedelta(minutes=limit) if limit is not None else None
        state, reason = _judge(evidence, deadline, clock.elapsed, closed)
        suggestions: tuple[EvidenceItem, ...] = ()
        guess = criterion.suggested
        if state != CriterionState.MET and guess is not None and criterion.evidence is None:
            suggestions = tuple(
                EvidenceItem(e, at[e.id], "suggested") for e in scored if _matches(e, guess)
            )[:3]
        results.append(
            CriterionResult(
                number=number,
                key=key,
                criterion=criterion,
                state=state,
                evidence=tuple(evidence),
                deadline=deadline,
                suggestions=suggestions,
                reason=reason,
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
