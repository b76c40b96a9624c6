"""Notification clocks for the regulated variation: each jurisdiction's deadlines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drillbook.errors import ConfigError
from drillbook.planning.regulatory import (
    Jurisdiction,
    add_business_days,
    add_months,
    clocks_for,
    parse_jurisdiction,
)

AWARE = datetime(2026, 1, 29, 10, 0, tzinfo=UTC)  # a Thursday


def _due(jurisdiction: Jurisdiction) -> list[datetime]:
    return [c.due(AWARE) for c in clocks_for([jurisdiction])]


def test_each_jurisdiction() -> None:
    assert _due(Jurisdiction.GDPR) == [AWARE + timedelta(hours=72)]
    assert _due(Jurisdiction.NIS2) == [
        AWARE + timedelta(hours=24),
        AWARE + timedelta(hours=72),
        datetime(2026, 2, 28, 10, 0, tzinfo=UTC),
    ]
    assert _due(Jurisdiction.SEC) == [datetime(2026, 2, 4, 10, 0, tzinfo=UTC)]  # Wednesday
    assert _due(Jurisdiction.HIPAA) == [AWARE + timedelta(days=60)]
    assert _due(Jurisdiction.NYDFS) == [AWARE + timedelta(hours=72)]
    assert _due(Jurisdiction.DORA) == [
        AWARE + timedelta(hours=4),
        AWARE + timedelta(hours=24),
        AWARE + timedelta(hours=72),
        datetime(2026, 2, 28, 10, 0, tzinfo=UTC),
    ]
    assert _due(Jurisdiction.EU_AI_ACT) == [
        AWARE + timedelta(days=2),
        AWARE + timedelta(days=10),
        AWARE + timedelta(days=15),
    ]


def test_every_clock_names_its_source() -> None:
    clocks = clocks_for(list(Jurisdiction))
    assert all(c.source and c.trigger for c in clocks)
    assert {c.offset_text for c in clocks} >= {
        "72h",
        "24h",
        "4h",
        "4 business days",
        "1 month",
        "60 days",
        "15 days",
    }


def test_parse_jurisdiction() -> None:
    assert parse_jurisdiction("gdpr") is Jurisdiction.GDPR
    assert parse_jurisdiction("sec-8k") is Jurisdiction.SEC
    assert parse_jurisdiction("eu-ai-act") is Jurisdiction.EU_AI_ACT
    with pytest.raises(ConfigError, match="unknown jurisdiction 'CCPA'"):
        parse_jurisdiction("CCPA")


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)), st.integers(1, 30)
)
def test_business_days_land_on_weekdays(start: datetime, days: int) -> None:
    due = add_business_days(start, days)
    assert due.weekday() < 5
    assert timedelta(days=days) <= due - start <= timedelta(days=days + (days // 5 + 1) * 2)


@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)), st.integers(1, 24)
)
def test_months_never_fail(start: datetime, months: int) -> None:
    due = add_months(start, months)
    assert (due.year * 12 + due.month) - (start.year * 12 + start.month) == months
    assert due.day <= start.day
