"""Events from a file or a folder, whatever shape they are in.

The format of each file is told from its content (``--events-format auto``): the EVTX
header, JSON (lines, an array or concatenated documents, see :mod:`.documents`), or
text lines (auditd records or syslog, see :mod:`.text`). A folder is walked in a stable
order by file extension; files with another extension and hidden files or folders
(``.git``, ``.vscode/settings.json``) are skipped with a note rather than read as events.

The same Windows event read in two formats (an EVTX file and the JSON export beside it,
as in SigmaHQ's regression samples) is counted once: a Windows event is the same event
when its computer, channel, record id and time are. Within one format every record
counts (two EVTX exports of one log hold real repeats, and other engines count them).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from drillbook.documents.folders import files_below
from drillbook.errors import LibraryError, Location
from drillbook.telemetry.readers.documents import is_json_lines, read_json, read_json_piece
from drillbook.telemetry.readers.evtx import EVTX_MAGIC, read_evtx
from drillbook.telemetry.readers.fields import table_name
from drillbook.telemetry.readers.jsonl import SourcedEvent
from drillbook.telemetry.readers.pieces import Piece
from drillbook.telemetry.readers.text import read_text

EVENT_FORMATS = ("auto", "json", "jsonl", "evtx", "syslog", "auditd")
EXTENSIONS = {
    ".evtx": "evtx",
    ".json": "json",
    ".jsonl": "json",
    ".ndjson": "json",
    ".log": "text",
    ".txt": "text",
    ".syslog": "text",
    ".audit": "text",
}
SNIFF_BYTES = 4096


@dataclass
class ReadReport:
    """What a read did besides yielding events: files read, files skipped and why,
    events dropped as duplicates."""

    files: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    duplicates: int = 0
    events: int = 0
    # events read but routed to no table a loaded rule reads (not kept)
    unread: int = 0


def sniff(path: Path) -> str:
    """``evtx``, ``json`` or ``text`` from the first bytes of the file."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise LibraryError.single(Location.of(path), f"cannot read: {exc.strerror}") from None
    if head.startswith(EVTX_MAGIC):
        return "evtx"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if text[:1] in (b"{", b"["):
        return "json"
    return "text"


def _reader(
    piece: Piece, kind: str, wanted: Collection[str] | None
) -> Callable[[], Iterator[SourcedEvent]]:
    path = piece.path
    if kind == "evtx":
        return lambda: read_evtx(path, wanted)
    if kind in ("json", "jsonl"):
        return lambda: read_json(path) if piece.whole else read_json_piece(piece)
    if kind in ("syslog", "auditd"):
        return lambda: read_text(path, kind, piece)
    return lambda: read_text(path, None, piece)


def splittable(path: Path, kind: str) -> bool:
    """Whether a file of this kind can be read in pieces of lines (JSON lines and text
    logs; not EVTX, a JSON array or pretty-printed documents)."""
    if kind == "evtx":
        return False
    return kind not in ("json", "jsonl") or is_json_lines(path)


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def event_files(path: Path, report: ReadReport) -> Iterator[Path]:
    """``path`` itself, or the event files below it (by extension), in a stable order."""
    if not path.exists():
        raise LibraryError.single(Location.of(path), "no such events file or folder", "missing")
    if not path.is_dir():
        yield path
        return
    for found in files_below(path):
        if _hidden(found, path):
            report.skipped.append((found, "hidden file or folder"))
        elif found.suffix.lower() not in EXTENSIONS:
            report.skipped.append((found, f"not an events file ({found.suffix or 'no extension'})"))
        else:
            yield found


def _identity(item: SourcedEvent) -> tuple[object, ...] | None:
    event = item.event
    record = event.get("EventRecordID")
    if record is None or "Channel" not in event:
        return None
    moment = event.get("SystemTime") or event.get("TimeCreated")
    return (event.get("Computer"), event.get("Channel"), str(record), str(moment))


def _check_format(path: Path, events_format: str) -> None:
    if events_format not in EVENT_FORMATS:
        raise LibraryError.single(
            Location.of(path),
            f"unknown events format {events_format!r}; use one of {', '.join(EVENT_FORMATS)}",
            "format",
        )


def file_kind(path: Path, events_format: str = "auto") -> str:
    """How a file is read: ``evtx``, ``json`` or a text kind (told from its content
    under ``auto``)."""
    kind = sniff(path) if events_format == "auto" else events_format
    return "json" if kind == "jsonl" else kind


def read_events(
    path: Path,
    events_format: str = "auto",
    report: ReadReport | None = None,
    *,
    wanted: Collection[str] | None = None,
    default_table: str = "process_creation",
) -> Iterator[SourcedEvent]:
    """Every event under ``path``, streamed; ``report`` collects skipped files. With
    ``wanted`` (table names), only events routed to one of those tables are yielded:
    events no loaded rule can match are dropped as early as their format allows."""
    _check_format(path, events_format)
    report = report if report is not None else ReadReport()
    yield from read_files(
        event_files(path, report), events_format, report, wanted=wanted, default_table=default_table
    )


def read_files(
    files: Iterable[Path | Piece],
    events_format: str = "auto",
    report: ReadReport | None = None,
    *,
    wanted: Collection[str] | None = None,
    default_table: str = "process_creation",
    kinds: Mapping[Path, str] | None = None,
) -> Iterator[SourcedEvent]:
    """The events of these files (or pieces of files, see :mod:`.pieces`), in order
    (see :func:`read_events`); ``kinds`` may give files' formats already told (see
    :func:`file_kind`), so they are not read for it again."""
    report = report if report is not None else ReadReport()
    seen: dict[tuple[object, ...], str] = {}
    # files all of one format hold no event read twice in two formats
    one_format = kinds is not None and len(set(kinds.values())) == 1
    for each in files:
        piece = each if isinstance(each, Piece) else Piece(each)
        found = piece.path
        _check_format(found, events_format)
        if piece.start == 0:
            report.files.append(found)
        kind = kinds.get(found) if kinds is not None else None
        if kind is None:
            kind = file_kind(found, events_format)
        for item in _reader(piece, kind, wanted)():
            if wanted is not None and not any(
                table_name(t) in wanted for t in item.tables(default_table)
            ):
                report.unread += 1
                continue
            identity = None if one_format else _identity(item)
            if identity is not None:
                first = seen.setdefault(identity, kind)
                if first != kind:
                    report.duplicates += 1
                    continue
            report.events += 1
            yield item
