"""The exercise clock, derived from the stored timeline and nothing else.

A live exercise has no state in memory: elapsed time is the sum of the running intervals
between ``status_changed`` events (pauses excluded), the current phase is the last
``phase_started`` event, and the next inject is the first scheduled inject not yet
dropped. A process that is killed mid-exercise and started again reads the same events
and so shows the same clock. Every function here is pure: events and "now" in, values out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from drillbook.domain.exercise.enums import EventKind, ExerciseStatus
from drillbook.domain.scenario.enums import PHASE_ORDER, Phase
from drillbook.domain.scenario.models import Inject, Scenario


class TimelineEvent(Protocol):
    """What the clock reads from an event (an ``ExerciseEvent`` row or a test double)."""

    @property
    def at(self) -> datetime: ...

    @property
    def kind(self) -> str: ...

    @property
    def phase(self) -> str | None: ...

    @property
    def data(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime | None  # None: still running


def running_intervals(events: Sequence[TimelineEvent]) -> list[Interval]:
    """The stretches of wall time in which the exercise clock ran."""
    intervals: list[Interval] = []
    open_since: datetime | None = None
    for event in events:
        if event.kind != EventKind.STATUS_CHANGED:
            continue
        to = event.data.get("to")
        if to == ExerciseStatus.RUNNING and open_since is None:
            open_since = event.at
        elif to != ExerciseStatus.RUNNING and open_since is not None:
            intervals.append(Interval(open_since, event.at))
            open_since = None
    if open_since is not None:
        intervals.append(Interval(open_since, None))
    return intervals


def elapsed_at(intervals: Sequence[Interval], moment: datetime) -> timedelta:
    """Exercise time at wall time ``moment``: running time up to it, pauses excluded."""
    total = timedelta(0)
    for interval in intervals:
        if moment <= interval.start:
            break
        end = moment if interval.end is None else min(interval.end, moment)
        total += end - interval.start
    return total


def format_offset(offset: timedelta) -> str:
    """``T+mm:ss`` (``T+h:mm:ss`` past an hour), the way the report and the log show time."""
    seconds = max(0, int(offset.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    mins, secs = divmod(rest, 60)
    if hours:
        return f"T+{hours}:{mins:02d}:{secs:02d}"
    return f"T+{mins:02d}:{secs:02d}"


@dataclass(frozen=True)
class ScheduledInject:
    number: int  # 1-based, in schedule order
    inject: Inject

    @property
    def due(self) -> timedelta:
        return timedelta(minutes=self.inject.minute)


@dataclass(frozen=True)
class ExerciseClock:
    """Everything a live view shows, as of ``now``."""

    status: ExerciseStatus
    started_at: datetime | None
    ended_at: datetime | None
    elapsed: timedelta
    phase: Phase | None
    scheduled_phase: Phase | None
    dropped: frozenset[int]
    due: tuple[ScheduledInject, ...]
    next_inject: ScheduledInject | None
    """The first scheduled inject not yet dropped (possibly already due): what
    ``drillbook exercise inject`` drops next."""
    remaining: timedelta | None
    upcoming: ScheduledInject | None = None
    """The first scheduled inject not dropped and not yet due: what "next new information
    in mm:ss" counts down to, while the due ones wait to be dropped."""
    pending: int = 0
    """Scheduled injects not yet dropped (due or not)."""

    @property
    def paused(self) -> bool:
        return self.status == ExerciseStatus.PAUSED

    @property
    def next_due_in(self) -> timedelta | None:
        """Time until the next inject not yet due (never negative); None when every
        scheduled inject is dropped or already due."""
        if self.upcoming is None:
            return None
        return self.upcoming.due - self.elapsed


def schedule(scenario: Scenario | None) -> list[ScheduledInject]:
    if scenario is None:
        return []
    ordered = sorted(enumerate(scenario.injects), key=lambda pair: (pair[1].minute, pair[0]))
    return [ScheduledInject(i + 1, inject) for i, (_, inject) in enumerate(ordered)]


def current_status(events: Sequence[TimelineEvent]) -> ExerciseStatus:
    status = ExerciseStatus.PLANNED
    for event in events:
        if event.kind == EventKind.STATUS_CHANGED:
            status = ExerciseStatus(str(event.data["to"]))
    return status


def current_phase(events: Sequence[TimelineEvent]) -> Phase | None:
    phase: Phase | None = None
    for event in events:
        if event.kind == EventKind.PHASE_STARTED and event.phase:
            phase = Phase(event.phase)
    return phase


def dropped_injects(events: Sequence[TimelineEvent]) -> frozenset[int]:
    return frozenset(
        int(e.data["number"])
        for e in events
        if e.kind == EventKind.INJECT and e.data.get("number") is not None
    )


def derive_clock(
    events: Sequence[TimelineEvent], scenario: Scenario | None, now: datetime
) -> ExerciseClock:
    status = current_status(events)
    intervals = running_intervals(events)
    started = intervals[0].start if intervals else None
    ended = next(
        (
            e.at
            for e in events
            if e.kind == EventKind.STATUS_CHANGED and e.data.get("to") == ExerciseStatus.IN_REVIEW
        ),
        None,
    )
    elapsed = elapsed_at(intervals, ended or now)
    dropped = dropped_injects(events)
    pending = [s for s in schedule(scenario) if s.number not in dropped]
    live = status.live
    due = tuple(s for s in pending if s.due <= elapsed) if live else ()
    first = pending[0] if pending and live else None
    later = next((s for s in pending if s.due > elapsed), None) if live else None
    scheduled_phase = scenario.phase_at(elapsed.total_seconds() / 60) if scenario else None
    remaining = (
        timedelta(minutes=scenario.duration_minutes) - elapsed if scenario and live else None
    )
    return ExerciseClock(
        status=status,
        started_at=started,
        ended_at=ended,
        elapsed=elapsed,
        phase=current_phase(events),
        scheduled_phase=scheduled_phase if started else None,
        dropped=dropped,
        due=due,
        next_inject=first,
        remaining=remaining,
        upcoming=later,
        pending=len(pending),
    )


def next_phase(phase: Phase | None) -> Phase:
    """The phase after ``phase`` (the first one when none has started)."""
    if phase is None:
        return PHASE_ORDER[0]
    index = PHASE_ORDER.index(phase)
    if index + 1 >= len(PHASE_ORDER):
        return phase
    return PHASE_ORDER[index + 1]
