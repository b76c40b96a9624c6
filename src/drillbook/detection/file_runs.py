"""Sigma rules over recorded event files (``drillbook detect run``), on both cores.

Reading a log, flattening its records and matching them are Python loops, so the input
is shared between this process and a forked child: each reads, stores and matches its
half, and the counts add up (first and last times are the earliest and the latest of
the two). Aggregated rows count their events, so nothing depends on which half a row
was in. A folder is shared out by files; a line-oriented log too big for one half
(JSON lines, syslog, auditd) is cut into pieces at line starts (see
:mod:`drillbook.telemetry.readers.pieces`). Should the input have a problem, it is read
again here whole, so the problem is reported once, at its line in the file.

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
from drillbook.errors import LibraryError
from drillbook.telemetry.readers.files import (
    ReadReport,
    event_files,
    file_kind,
    read_files,
    splittable,
)
from drillbook.telemetry.readers.pieces import Piece, line_pieces

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


def _shares(files: Sequence[Path], parts: int, kind: str) -> list[list[Piece]]:
    """The files in ``parts`` groups of about equal size, each in the original order; a
    line-oriented file too big for one group is cut into pieces of lines first."""
    total = sum(path.stat().st_size for path in files)
    pieces: list[Piece] = []
    for path in files:
        if path.stat().st_size * parts > total and splittable(path, kind):
            pieces.extend(line_pieces(path, parts))
        else:
            pieces.append(Piece(path))
    groups: list[list[Piece]] = [[] for _ in range(parts)]
    load = [0] * parts
    for piece in sorted(pieces, key=lambda p: -p.size()):
        lightest = load.index(min(load))
        groups[lightest].append(piece)
        load[lightest] += piece.size()
    order = {path: n for n, path in enumerate(files)}
    return [sorted(g, key=lambda p: (order[p.path], p.start)) for g in groups if g]


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

    def load(backend: LocalSigmaBackend, group: Sequence[Path | Piece], into: ReadReport) -> None:
        backend.load_for(
            read_files(group, events_format, into, wanted=wanted, default_table=default_table),
            rules,
            default_table=default_table,
            large=large,
            aggregate=aggregate,
        )

    kinds = {file_kind(p, events_format) for p in files}
    shares = (
        _shares(files, engine.store.workers, next(iter(kinds)))
        if engine.store.workers > 1
        and len(kinds) == 1
        and sum(p.stat().st_size for p in files) >= SPLIT_MIN_BYTES
        else []
    )
    if len(shares) < 2:
        load(engine, files, report)
        return engine.run(rules, scope)

    def half(group: list[Piece]) -> _Half:
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

    try:
        halves = run_forked(half, shares)
    except LibraryError:
        # a problem in the input: read it all here, so that it is reported once, with
        # the line numbers of the whole file
        load(engine, files, report)
        return engine.run(rules, scope)
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
