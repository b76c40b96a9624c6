from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from drillbook import clock


def test_system_clock_is_aware_utc() -> None:
    assert clock.now().tzinfo is not None
    assert clock.now().utcoffset() == timedelta(0)


def test_fake_clock_moves_only_when_told(fake_clock: clock.FakeClock) -> None:
    start = clock.now()
    assert clock.now() == start
    fake_clock.advance(90)
    assert clock.now() - start == timedelta(seconds=90)
    assert clock.monotonic() == 90


def test_ensure_utc_converts_and_assumes() -> None:
    naive = datetime(2026, 1, 1, 12, 0)
    assert clock.ensure_utc(naive) == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    plus2 = datetime(2026, 1, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    assert clock.ensure_utc(plus2) == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
