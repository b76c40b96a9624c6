"""The only place that reads the time.

Every stored time is timezone-aware UTC. Code calls :func:`now`; tests install a
:class:`FakeClock` with :func:`use_clock` and move it forward by hand, so timing rules
(inject schedules, SLAs, follow-ups, drill windows) are tested without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = ensure_utc(start or datetime(2026, 4, 29, 14, 30, tzinfo=UTC))
        self._mono = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, delta: timedelta | float) -> datetime:
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        self._now += timedelta(seconds=seconds)
        self._mono += seconds
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = ensure_utc(moment)


_current: Clock = SystemClock()


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _current.now()


def today() -> date:
    """Today's date in UTC."""
    return _current.now().date()


def monotonic() -> float:
    """Seconds from an arbitrary origin; for measuring durations, never stored."""
    return _current.monotonic()


def get_clock() -> Clock:
    return _current


def set_clock(clock: Clock) -> Clock:
    """Install ``clock`` and return the previous one."""
    global _current
    previous, _current = _current, clock
    return previous


@contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    previous = set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(previous)


def ensure_utc(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC (SQLite returns them so); aware ones are converted."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
