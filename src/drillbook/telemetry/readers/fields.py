"""Flattening events the way Sigma rules expect them.

Sigma rules name flat fields (``Image``, ``CommandLine``, ``ThreatName``). Recorded
telemetry is nested (EVTX's ``Event.System.EventID``, JSON objects) and its field names
can hold spaces (Windows Defender's ``Threat Name``). Values must also fit SQLite: an
integer outside the signed 64-bit range (a Windows handle, a hash prefix) is kept as
text rather than losing precision or failing the insert.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from drillbook.clock import ensure_utc

Event = dict[str, Any]
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

# Fields that commonly carry the event's time, in the order they are trusted.
TIME_FIELDS = (
    "UtcTime",
    "@timestamp",
    "timestamp",
    "TimeCreated",
    "SystemTime",
    "EventTime",
    "time",
    "ts",
)

_NAME_JUNK = re.compile(r"[^A-Za-z0-9_.@-]+")


@lru_cache(maxsize=65536)
def normalise_name(name: str) -> str:
    """``Threat Name`` -> ``ThreatName``; keeps letters, digits, ``_ . @ -``."""
    cleaned = _NAME_JUNK.sub("", str(name))
    return cleaned or "_"


@lru_cache(maxsize=4096)
def table_name(name: str) -> str:
    """A log source as a table name: lower case, other characters ``_`` (``ps_script``,
    ``codeintegrity_operational``); the event store and the readers agree on it."""
    cleaned = "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")
    return cleaned or "events"


def scalar(value: Any) -> Any:
    """A value SQLite can store without loss: big integers and containers become text."""
    kind = type(value)
    if kind is str or kind is float or value is None:  # the common cases, checked cheaply
        return value
    if kind is int:
        return value if INT64_MIN <= value <= INT64_MAX else str(value)
    if isinstance(value, str | float):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return value if INT64_MIN <= value <= INT64_MAX else str(value)
    if isinstance(value, datetime):
        return ensure_utc(value).isoformat()
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def flatten(data: Mapping[str, Any], prefix: str = "") -> Event:
    """Nested mappings become dotted names (``process.parent.name``); lists of scalars
    stay one value (JSON text), as most SIEM field mappings store them."""
    out: Event = {}
    for key, value in data.items():
        name = prefix + normalise_name(key) if prefix else normalise_name(key)
        kind = type(value)
        if kind is str or kind is float or value is None:
            out[name] = value
        elif kind is dict or (kind is not list and isinstance(value, Mapping)):
            out.update(flatten(value, name + "."))
        else:
            out[name] = scalar(value)
    return out


_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def parse_time(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO text, Sysmon's ``2024-05-01 10:00:00.123`` or epoch
    seconds/milliseconds/nanoseconds; ``None`` when the value is not a time."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return ensure_utc(value)
    if isinstance(value, int | float):
        number = float(value)
        for scale in (1.0, 1e3, 1e6, 1e9):
            seconds = number / scale
            if seconds < 1e10:
                try:
                    return datetime.fromtimestamp(seconds, UTC)
                except (OverflowError, OSError, ValueError):
                    return None
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if _NUMBER.fullmatch(text):
            return parse_time(float(text))
        text = text.replace("Z", "+00:00").replace("z", "+00:00")
        try:
            return ensure_utc(datetime.fromisoformat(text))
        except ValueError:
            return None
    return None


def event_time(event: Mapping[str, Any]) -> datetime | None:
    """The event's own time, from the first time field that parses."""
    for name in TIME_FIELDS:
        value = event.get(name)
        if value is not None:
            found = parse_time(value)
            if found is not None:
                return found
    lowered = {k.lower(): v for k, v in event.items()}
    for name in TIME_FIELDS:
        if name.lower() in lowered:
            found = parse_time(lowered[name.lower()])
            if found is not None:
                return found
    return None
