"""Durations as the library writes them: ``90m``, ``1h30m``, ``45s``, ``2d``.

Scenario files keep the text as written (so exports are verbatim); code asks for
seconds or minutes through :func:`parse_duration`.
"""

from __future__ import annotations

import functools
import re
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, WithJsonSchema

_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PATTERN = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*([wdhms])\s*)+$", re.IGNORECASE)
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])", re.IGNORECASE)


def parse_duration(text: str) -> timedelta:
    """Parse ``text``; raise ValueError with a hint on anything else."""
    if not isinstance(text, str):
        raise ValueError(
            f"'{text}' is not a duration; write a number with a unit, e.g. 15m, 1h30m, 45s, 2d"
        )
    return _parsed(str(text))


@functools.lru_cache(maxsize=1024)
def _parsed(text: str) -> timedelta:
    # a library writes the same few durations thousands of times (lint reads every
    # inject's time twice): each text is parsed once (errors are raised every time)
    if not _PATTERN.match(text):
        raise ValueError(
            f"'{text}' is not a duration; write a number with a unit, e.g. 15m, 1h30m, 45s, 2d"
        )
    seconds = 0.0
    for number, unit in _PART.findall(text):
        seconds += float(number) * _UNITS[unit.lower()]
    try:
        return timedelta(seconds=seconds)
    except OverflowError:  # a ValueError, so that pydantic locates it like any other
        raise ValueError(
            f"'{text}' is not a duration drillbook can count; keep it under "
            f"{timedelta.max.days // 7} weeks"
        ) from None


def minutes(text: str) -> float:
    return parse_duration(text).total_seconds() / 60


def format_duration(delta: timedelta | float) -> str:
    """``timedelta(minutes=90)`` -> ``'90m'``; seconds only when needed."""
    seconds = round(delta.total_seconds() if isinstance(delta, timedelta) else delta)
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    if seconds < 60:
        return f"{seconds}s"
    return f"{seconds // 60}m{seconds % 60}s"


def _coerce(value: object) -> object:
    """`time: 0` is a common shorthand for the start; any other number needs a unit, and
    saying so here (not in the validation layer) reaches every duration field."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if isinstance(value, int) and value == 0:
        return "0m"
    raise ValueError(f"expected text, found the number {value} (durations need a unit, e.g. 15m)")


def _check(value: str) -> str:
    parse_duration(value)
    return value


DURATION_PATTERN = r"^\s*(?:\d+(?:\.\d+)?\s*[wdhmsWDHMS]\s*)+$"
""":data:`_PATTERN` as JSON Schema writes it (no inline flags), for editors."""

DurationText = Annotated[
    str,
    BeforeValidator(_coerce),
    AfterValidator(_check),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "pattern": DURATION_PATTERN},
                {"const": 0, "description": "0 is the start; other numbers need a unit"},
            ],
            "description": "A duration: a number with a unit (w, d, h, m, s), e.g. 15m, 1h30m",
        }
    ),
]
"""A duration kept as the text the user wrote, validated on load."""
