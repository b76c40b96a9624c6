"""The exercise clock is a pure function of the stored events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from drillbook.domain.exercise.enums import EventKind, ExerciseStatus
from drillbook.domain.exercise.timeline import (
    derive_clock,
    elapsed_at,
    format_offset,
    running_intervals,
)
from drillbook.domain.scenario.enums import Phase
from drillbook.domain.scenario.models import Scenario
from drillbook.library.loader import load_scenario_file
from tests.helpers import SEED

T0 = datetime(2026, 4, 29, 14, 30, tzinfo=UTC)


@dataclass
class Ev:
    at: datetime
    kind: str
    phase: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def status(minute: float, to: ExerciseStatus) -> Ev:
    return Ev(T0 + timedelta(minutes=minute), EventKind.STATUS_CHANGED, data={"to": str(to)})


def scenario() -> Scenario:
    return load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario


def test_pauses_do_not_count() -> None:
    events = [
        status(0, ExerciseStatus.RUNNING),
        status(10, ExerciseStatus.PAUSED),
        status(25, ExerciseStatus.RUNNING),
    ]
    clock = derive_clock(events, scenario(), T0 + timedelta(minutes=30))
    assert clock.elapsed == timedelta(minutes=15)
    assert clock.status == ExerciseStatus.RUNNING
    assert clock.next_inject is not None
    assert clock.next_inject.number == 1
    # injects 1 (0m) and 2 (15m) are due at 15 minutes of exercise time
    assert [s.number for s in clock.due] == [1, 2]


def test_paused_clock_stands_still() -> None:
    events = [status(0, ExerciseStatus.RUNNING), status(7, ExerciseStatus.PAUSED)]
    early = derive_clock(events, scenario(), T0 + timedelta(minutes=8))
    late = derive_clock(events, scenario(), T0 + timedelta(hours=5))
    assert early.elapsed == late.elapsed == timedelta(minutes=7)
    assert late.paused


def test_end_freezes_the_clock_and_dropped_injects_are_not_due() -> None:
    events = [
        status(0, ExerciseStatus.RUNNING),
        Ev(T0, EventKind.PHASE_STARTED, phase=str(Phase.DETECTION)),
        Ev(T0 + timedelta(minutes=1), EventKind.INJECT, data={"number": 1}),
        Ev(T0 + timedelta(minutes=16), EventKind.PHASE_STARTED, phase=str(Phase.CONTAINMENT)),
        status(40, ExerciseStatus.IN_REVIEW),
    ]
    clock = derive_clock(events, scenario(), T0 + timedelta(days=1))
    assert clock.elapsed == timedelta(minutes=40)
    assert clock.ended_at == T0 + timedelta(minutes=40)
    assert clock.phase == Phase.CONTAINMENT
    assert clock.dropped == frozenset({1})
    assert clock.due == ()  # not live any more


def test_format_offset() -> None:
    assert format_offset(timedelta(seconds=0)) == "T+00:00"
    assert format_offset(timedelta(minutes=4, seconds=59)) == "T+04:59"
    assert format_offset(timedelta(hours=1, minutes=2, seconds=3)) == "T+1:02:03"


@given(
    st.lists(st.integers(min_value=1, max_value=600), min_size=1, max_size=12),
    st.integers(min_value=0, max_value=8000),
)
def test_elapsed_is_the_sum_of_running_stretches(gaps: list[int], probe: int) -> None:
    """Alternate running/paused at the given gaps: elapsed equals the running seconds up to
    any probe time, and never decreases as time moves on."""
    events, moment, running = [], T0, True
    for gap in gaps:
        to = ExerciseStatus.RUNNING if running else ExerciseStatus.PAUSED
        events.append(Ev(moment, EventKind.STATUS_CHANGED, data={"to": str(to)}))
        moment += timedelta(seconds=gap)
        running = not running
    intervals = running_intervals(events)
    at = T0 + timedelta(seconds=probe)
    expected = timedelta(0)
    for interval in intervals:
        end = at if interval.end is None else min(interval.end, at)
        if end > interval.start:
            expected += end - interval.start
    assert elapsed_at(intervals, at) == expected
    assert elapsed_at(intervals, at + timedelta(seconds=1)) >= elapsed_at(intervals, at)
    assert elapsed_at(intervals, at) <= at - T0
