"""Sigma rules over recorded event files (``drillbook detect run``), on both cores.

Reading a log, flattening its records and matching them are Python loops, so the input
is shared between this process and a forked child: each takes pieces of work from a
queue, reads, stores and matches them, and the counts add up (first and last times are
the earliest and the latest of the two). Aggregated rows count their events, so nothing
depends on which process read a row. A piece is a file, or part of a line-oriented log
too big for one process (JSON lines, syslog, auditd), cut at line starts (see
:mod:`drillbook.telemetry.readers.pieces`). Taking pieces from a queue, largest first,
instead of splitting them up front keeps both processes busy to the end whatever the
files hold.

The one thing that spans files is dropping a Windows event read in two formats (an
EVTX file and the JSON export beside it, see :mod:`drillbook.telemetry.readers.files`),
so the work is only shared when the files are all of one format, where no event is
dropped that way. Should the input have a problem, or a child fail after taking work,
everything is read again here, so a problem is reported once, at its line in the file,
and no event goes uncounted.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
# A large line-oriented log is cut into this many pieces per process.
PIECES_PER_PROCESS = 4
# Work is dealt into at most this many units (their numbers must fit one pipe page).
MAX_UNITS = 1_000


@dataclass(frozen=True)
class _Half:
    """What one process found over the pieces it took (plain values: it crosses a pipe)."""

    found: list[tuple[int, datetime | None, datetime | None]]
    events: int
    unread: int
    duplicates: int
    reached: set[str]
    taken: list[int]


class _WorkQueue:
    """Numbered units of work that processes take one at a time, whoever is free: each
    number is 4 bytes in a pipe written whole (and closed) before any process reads, so
    a 4-byte read takes exactly one number and no two readers the same. A process that
    is done early takes more, so a slow unit does not hold the run up."""

    def __init__(self, count: int) -> None:
        # A pipe may hold as little as one page when its owner has many (Linux's
        # pipe-user-pages-soft), so the numbers fit in 4 KiB and are written without
        # blocking: a pipe that is full anyway raises, and the caller works alone.
        if count * 4 > 4096:
            raise ValueError("too many units of work for one pipe")
        self._read, write = os.pipe()
        try:
            os.set_blocking(write, False)
            data = b"".join(n.to_bytes(4, "big") for n in range(count))
            if os.write(write, data) != len(data):
                raise OSError("the work queue's pipe took only part of the numbers")
        except BaseException:
            os.close(self._read)
            raise
        finally:
            os.close(write)

    def take(self) -> Iterator[int]:
        while True:
            data = os.read(self._read, 4)
            if len(data) != 4:
                return
            yield int.from_bytes(data, "big")

    def close(self) -> None:
        os.close(self._read)


def _units(
    files: Sequence[Path], parts: int, kind: str, sizes: Mapping[Path, int]
) -> list[list[Piece]]:
    """The work as units, largest first: whole files, and a line-oriented file too big
    for one process cut into pieces of lines (a few per process, so the shares even
    out); more files than :data:`MAX_UNITS` are dealt into that many units of about
    equal size."""
    total = sum(sizes.values())
    pieces: list[Piece] = []
    for path in files:
        if sizes[path] * parts > total and splittable(path, kind):
            pieces.extend(line_pieces(path, parts * PIECES_PER_PROCESS))
        else:
            pieces.append(Piece(path))
    pieces.sort(key=lambda p: -((sizes[p.path] if p.end is None else p.end) - p.start))
    count = min(len(pieces), MAX_UNITS)
    return [pieces[start::count] for start in range(count)]


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

    ``engine.store.workers`` decides whether a child shares the work; the answers are
    the same either way, except that matches found by a child carry no sample row ids
    (they name rows of the child's own store)."""
    scope = scope if scope is not None else Scope()
    wanted = {safe_table(r.table) for r in rules if r.usable}
    files = list(event_files(events, report))

    # each file's format, told once (it is read from the file's first bytes)
    kinds = {path: file_kind(path, events_format) for path in files}

    def load(backend: LocalSigmaBackend, group: Iterable[Path | Piece], into: ReadReport) -> None:
        backend.load_for(
            read_files(
                group,
                events_format,
                into,
                wanted=wanted,
                default_table=default_table,
                kinds=kinds,
            ),
            rules,
            default_table=default_table,
            large=large,
            aggregate=aggregate,
        )

    def alone() -> list[RuleMatch]:
        load(engine, files, report)
        return engine.run(rules, scope)

    workers = engine.store.workers
    if workers < 2 or len(set(kinds.values())) != 1:
        return alone()
    sizes = {path: path.stat().st_size for path in files}
    if sum(sizes.values()) < SPLIT_MIN_BYTES:
        return alone()
    units = _units(files, workers, next(iter(kinds.values())), sizes)
    if len(units) < 2:
        return alone()
    try:
        queue = _WorkQueue(len(units))
    except OSError:
        return alone()

    def share(_: int) -> _Half:
        own = ReadReport()
        taken: list[int] = []

        def next_pieces() -> Iterator[Piece]:
            for number in queue.take():
                taken.append(number)
                yield from units[number]

        backend = LocalSigmaBackend(cache=engine.cache)
        try:
            load(backend, next_pieces(), own)
            matches = backend.run(rules, scope)
            return _Half(
                [(m.count, m.first_time, m.last_time) for m in matches],
                own.events,
                own.unread,
                own.duplicates,
                set(backend.store.reached),
                taken,
            )
        finally:
            backend.close()

    try:
        shares = run_forked(share, list(range(workers)))
    except LibraryError:
        # a problem in the input: read it all here, so that it is reported once, with
        # the line numbers of the whole file
        return alone()
    finally:
        queue.close()
    if sorted(n for part in shares for n in part.taken) != list(range(len(units))):
        return alone()  # a child failed after taking pieces: their events are not counted
    report.files.extend(files)
    merged = [RuleMatch(rule, 0, None, None, ()) for rule in rules]
    for part in shares:
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
