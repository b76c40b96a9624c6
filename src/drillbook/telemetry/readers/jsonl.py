"""JSON lines: one event object per line, as most sensors and SIEM exports write them.

A line may say which Sigma log source it belongs to with a ``logsource`` key (a
category name such as ``process_creation``, or a mapping with ``category``/``service``);
the key is removed from the event. Bad lines are all reported at once with their
line and column, and nothing is ingested from a file with bad lines.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drillbook.errors import LibraryError, Location, Problem
from drillbook.telemetry.readers.fields import Event, flatten

MAX_PROBLEMS = 50


@dataclass(frozen=True)
class SourcedEvent:
    """A flat event and the log source (table) it belongs to, if it said so; ``also``
    names further log sources whose rules read it (a Sysmon registry event is read by
    ``registry_set`` and ``registry_event`` rules)."""

    event: Event
    logsource: str | None
    also: tuple[str, ...] = ()

    def tables(self, default: str) -> tuple[str, ...]:
        """Every log source this event goes to (``default`` when it named none)."""
        return (self.logsource or default, *self.also)


def logsource_name(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        for key in ("category", "service", "product"):
            if value.get(key):
                return str(value[key])
    return None


def shape_plain(data: dict[str, Any]) -> SourcedEvent:
    """A JSON object to a flat event in the table its ``logsource`` key names."""
    source = logsource_name(data.pop("logsource", None))
    return SourcedEvent(flatten(data), source)


def iter_lines(
    lines: Iterable[str],
    path: str | Path,
    shape: Callable[[dict[str, Any]], SourcedEvent] = shape_plain,
) -> Iterator[SourcedEvent]:
    """Events from JSON lines, one at a time (a large file is never held whole); the bad
    lines are all reported at the end, in one :class:`LibraryError`."""
    problems: list[Problem] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(
                Problem(Location.of(path, number, exc.colno), f"not JSON: {exc.msg}", "json")
            )
        else:
            if not isinstance(data, dict):
                problems.append(
                    Problem(
                        Location.of(path, number, 1),
                        f"each line must be a JSON object, not {type(data).__name__}",
                        "json",
                    )
                )
            elif not problems:
                yield shape(data)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise LibraryError(problems)


def parse_lines(
    lines: Iterable[str],
    path: str | Path,
    shape: Callable[[dict[str, Any]], SourcedEvent] = shape_plain,
) -> list[SourcedEvent]:
    """Every event of JSON lines, or one :class:`LibraryError` listing every bad line."""
    return list(iter_lines(lines, path, shape))


def read_jsonl(path: Path) -> list[SourcedEvent]:
    """Every event in ``path``; raises one :class:`LibraryError` listing every bad line."""
    try:
        with path.open(encoding="utf-8") as handle:
            return parse_lines(handle, path)
    except UnicodeDecodeError as exc:
        raise LibraryError.single(Location.of(path), f"not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise LibraryError.single(Location.of(path), f"cannot read: {exc.strerror}") from None


def iter_paths(path: Path, suffixes: tuple[str, ...]) -> Iterator[Path]:
    """``path`` itself, or the matching files below it in a stable order."""
    if path.is_dir():
        for found in sorted(path.rglob("*")):
            if found.is_file() and found.name.lower().endswith(suffixes):
                yield found
    else:
        yield path
