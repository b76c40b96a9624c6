"""Calendar quarters: the program's unit of time (one tabletop a quarter).

``2026-Q3`` is July to September 2026. A :class:`Period` is half-open (``start`` included,
``end`` excluded), so consecutive quarters never share a day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from drillbook.errors import StateError

_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date
    label: str

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=UTC)

    @property
    def end_at(self) -> datetime:
        return datetime.combine(self.end, time.min, tzinfo=UTC)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day < self.end

    def month_start(self, month: int) -> date:
        """The first day of the quarter's ``month`` (1, 2 or 3)."""
        first = self.start.month + month - 1
        return date(self.start.year, first, 1)


def quarter(year: int, number: int) -> Period:
    if not 1 <= number <= 4:
        raise StateError(f"quarter {number} does not exist; use 1 to 4")
    start = date(year, 3 * number - 2, 1)
    end = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)
    return Period(start, end, f"{year:04d}-Q{number}")


def quarter_of(day: date) -> Period:
    return quarter(day.year, (day.month - 1) // 3 + 1)


def parse_quarter(text: str) -> Period:
    """``2026-Q3`` (also ``2026Q3``, ``2026-q3``) as a period; anything else is an error
    that says how to write it."""
    found = _QUARTER.match(text)
    if not found:
        raise StateError(f"'{text}' is not a quarter; write YYYY-Qn, e.g. 2026-Q3")
    return quarter(int(found.group(1)), int(found.group(2)))


def next_quarter(period: Period) -> Period:
    return quarter_of(period.end)


def previous_quarter(period: Period) -> Period:
    return quarter_of(date.fromordinal(period.start.toordinal() - 1))


def quarters_from(first: Period, count: int) -> list[Period]:
    out = [first]
    while len(out) < count:
        out.append(next_quarter(out[-1]))
    return out


def span(periods: list[Period]) -> Period:
    """One period covering ``periods`` (consecutive quarters)."""
    return Period(periods[0].start, periods[-1].end, f"{periods[0].label}..{periods[-1].label}")


def quarter_index(period: Period) -> int:
    """Quarters since year 0: consecutive quarters have consecutive indexes (rotation)."""
    return period.start.year * 4 + (period.start.month - 1) // 3
