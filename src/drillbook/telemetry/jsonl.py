"""JSON lines export of process events: one event per line, times in ISO 8601 UTC.

JSON lines is what log shippers (Vector, Fluent Bit, Filebeat) and SIEM file inputs read,
so a drill's events can be replayed into a real pipeline.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TextIO


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def event_line(event: dict[str, Any]) -> str:
    return json.dumps({k: _plain(v) for k, v in event.items()}, ensure_ascii=False, sort_keys=False)


def write_jsonl(events: Iterable[dict[str, Any]], out: TextIO) -> int:
    count = 0
    for event in events:
        out.write(event_line(event) + "\n")
        count += 1
    return count
