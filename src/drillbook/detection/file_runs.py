"""Sigma rules over recorded event files (``drillbook detect run``), on both cores.

Reading a log, flattening its records and matching them are Python loops, so a folder
of files is shared between this process and a forked child: each reads, stores and
matches its half, and the counts add up (first and last times are the earliest and the
latest of the two). Aggregated rows count their events, so nothing depends on which
half a row was in.

The one thing that spans files is dropping a Windows event read in two formats (an
EVTX file and the JSON export beside it, see :mod:`drillbook.telemetry.readers.files`),
so the files are only shared out when they are all of one format, where no event is
dropped that way; otherwise, or for a single file, everything runs here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from drillbook.detection.eventstore import RuleMatch, Scope, safe_table
from drillbook.detection.forked import run_forked
from drillbook.detection.local import LocalSigmaBackend
from drillbook.detection.sigma_sqlite import CompiledRule
from drillbook.telemetry.readers.files import (
    ReadReport,
    event_files,
    file_kind,
    read_files,
)

# Below this much input, a second process costs more than it saves.
SPLIT_MIN_BYTES = 2_000_000


@dataclass(frozen=True)
class _Half:
    """What one process found over its files (plain values: it crosses a pipe)."""

    found: list[tuple[int, datetime | None, datetime | None]]
    events: int
    unread: int
    duplicates: int
    reached: set[str]


def _shares(files: Sequence[Path], parts: int) -> list[list[Path]]:
    """The files in ``parts`` groups of about equal size, each in the original order."""
    sizes = {path: path.stat().st_size for path in files}
    groups: list[list[Path]] = [[] for _ in range(parts)]
    load = [0] * parts
    for path in sorted(files, key=lambda p: -sizes[p]):
        lightest = load.index(min(load))
        groups[lightest].append(path)
        load[lightest] += sizes[path]
    order = {path: n for n, path in enumerate(files)}
    return [sorted(group, key=order.__getitem__) for group in groups if group]


def run_over_files(
    engine: LocalSigmaBackend,
    rules: Sequence[CompiledRule],
    events: Path,
    report: ReadReport,
    *,
    events_format: str = "auto",
    default_table: str = "process_creation",
    scope: Scope | None = None,
    aggregate: bool = False,
    large: bool = False,
) -> list[RuleMatch]:
    """Every rule's matches over the events under ``events`` (one per rule, in order).

    ``engine.store.workers`` decides whether a child takes half of the files; the
    answers are the same either way, except that matches found by a child carry no
    sample row ids (they name rows of the child's own store)."""
    scope = scope if scope is not None else Scope()
    wanted = {safe_table(r.table) for r in rules if r.usable}
    files = list(event_files(events, report))

    def load(backend: LocalSigmaBackend, group: Sequence[Path], into: ReadReport) -> None:
        backend.load_for(
            read_files(group, events_format, into, wanted=wanted, default_table=default_table),
            rules,
            default_table=default_table,
            large=large,
            aggregate=aggregate,
        )

    shares = _shares(files, engine.store.workers) if engine.store.workers > 1 else []
    if (
        len(shares) < 2
        or sum(p.stat().st_size for p in files) < SPLIT_MIN_BYTES
        or len({file_kind(p, events_format) for p in files}) != 1
    ):
        load(engine, files, report)
        return engine.run(rules, scope)

    def half(group: list[Path]) -> _Half:
        own = ReadReport()
        backend = LocalSigmaBackend(cache=engine.cache)
        try:
            load(backend, group, own)
            matches = backend.run(rules, scope)
            return _Half(
                [(m.count, m.first_time, m.last_time) for m in matches],
                own.events,
                own.unread,
                own.duplicates,
                set(backend.store.reached),
            )
        finally:
            backend.close()

    halves = run_forked(half, shares)
    report.files.extend(files)
    merged = [RuleMatch(rule, 0, None, None, ()) for rule in rules]
    for part in halves:
        report.events += part.events
        report.unread += part.unread
        report.duplicates += part.duplicates
        engine.store.reached |= part.reached
        for index, (count, first, last) in enumerate(part.found):
            if not count:
                continue
            known = merged[index]
            merged[index] = RuleMatch(
                known.rule,
                known.count + count,
                _earliest(known.first_time, first),
                _latest(known.last_time, last),
                (),
            )
    return merged


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)
