"""JSON events in every shape users hold them: lines, an array, concatenated documents.

SIEM exports write JSON lines; ``jq`` and EVTX converters write a JSON array or
pretty-printed documents one after another (SigmaHQ's regression samples are the
latter). The shape is told from the text, not the file name:

* every non-empty line a JSON object -> JSON lines (bad lines are reported with their
  line, as :mod:`.jsonl` always did);
* text starting with ``[`` -> one array of objects;
* otherwise -> one or more documents, concatenated, whitespace between them.

Each object becomes a flat event: the EVTX-as-JSON shape (``Event.System``,
``Event.EventData``) is flattened like an EVTX record and routed to the Windows log
sources; a flat Windows event (it names ``Channel`` and ``EventID``) is routed the same
way; anything else is flattened to dotted names and goes where its ``logsource`` key
says (or to the default table).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from drillbook.errors import LibraryError, Location, Problem
from drillbook.telemetry.readers.evtx import flatten_record, sourced
from drillbook.telemetry.readers.fields import flatten
from drillbook.telemetry.readers.jsonl import SourcedEvent, iter_lines, parse_lines, shape_plain
from drillbook.telemetry.readers.pieces import Piece, open_piece
from drillbook.telemetry.readers.windows import is_windows_event

JSON_SHAPES = ("jsonl", "json")


def shape_object(data: Mapping[str, Any]) -> SourcedEvent:
    """One JSON object to a flat, routed event."""
    inner = data.get("Event")
    if (
        inner is not None
        and isinstance(inner, Mapping)
        and isinstance(inner.get("System"), Mapping)
    ):
        return sourced(flatten_record(data))
    if "logsource" not in data and is_windows_event(data):
        return sourced(flatten(data))
    return shape_plain(dict(data))


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _problem(path: str | Path, text: str, offset: int, message: str) -> LibraryError:
    line, column = _position(text, offset)
    return LibraryError([Problem(Location.of(path, line, column), message, "json")])


def _looks_like_lines(text: str) -> bool:
    """True when the first non-empty line is a whole JSON object by itself."""
    for line in text.splitlines():
        if line.strip():
            try:
                return isinstance(json.loads(line), dict)
            except json.JSONDecodeError:
                return False
    return False


def _documents(text: str, path: str | Path) -> Iterator[Any]:
    decoder = json.JSONDecoder()
    offset = 0
    end = len(text)
    while True:
        while offset < end and text[offset] in " \t\r\n":
            offset += 1
        if offset >= end:
            return
        try:
            value, offset = decoder.raw_decode(text, offset)
        except json.JSONDecodeError as exc:
            raise _problem(path, text, exc.pos, f"not JSON: {exc.msg}") from None
        yield value


def parse_json_text(text: str, path: str | Path) -> Iterator[SourcedEvent]:
    """Events from JSON text of any of the three shapes (see the module docstring)."""
    text = text.removeprefix("\ufeff")
    if _looks_like_lines(text):
        try:
            yield from parse_lines(text.splitlines(), path, shape_object)
            return
        except LibraryError as lines_error:
            # pretty-printed documents whose first one fits on a line (``{}``)
            try:
                events = list(_document_events(text, path))
            except LibraryError:
                raise lines_error from None
        yield from events
        return
    yield from _document_events(text, path)


def _document_events(text: str, path: str | Path) -> Iterator[SourcedEvent]:
    stripped = text.lstrip()
    for document in _documents(text, path):
        values = document if isinstance(document, list) and stripped.startswith("[") else [document]
        for value in values:
            if not isinstance(value, dict):
                raise LibraryError.single(
                    Location.of(path),
                    f"a JSON event must be an object, not {type(value).__name__}",
                    "json",
                )
            yield shape_object(value)


def _head_is_lines(path: Path) -> bool:
    """True when the first two non-empty lines are each a whole JSON object (one line
    alone may be a ``{}`` document followed by pretty-printed ones)."""
    seen = 0
    with path.open(encoding="utf-8-sig") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                if not isinstance(json.loads(line), dict):
                    return False
            except json.JSONDecodeError:
                return False
            seen += 1
            if seen == 2:
                return True
    return False


def is_json_lines(path: Path) -> bool:
    """Whether ``path`` is read as JSON lines (so it may be read in pieces)."""
    try:
        return _head_is_lines(path)
    except (OSError, UnicodeDecodeError):
        return False


def read_json_piece(piece: Piece) -> Iterator[SourcedEvent]:
    """The events of a piece of a JSON-lines file (see :mod:`.pieces`); line numbers in
    a problem count from the piece's start, so a caller reporting one reads the whole
    file again."""
    try:
        with open_piece(piece, "utf-8-sig" if piece.start == 0 else "utf-8") as handle:
            yield from iter_lines(handle, piece.path, shape_object)
    except UnicodeDecodeError as exc:
        raise LibraryError.single(
            Location.of(piece.path), f"not UTF-8 text: {exc.reason}"
        ) from None
    except OSError as exc:
        raise LibraryError.single(Location.of(piece.path), f"cannot read: {exc.strerror}") from None


def read_json(path: Path) -> Iterator[SourcedEvent]:
    """Every event in a JSON file; one :class:`LibraryError` naming the place if bad.
    JSON lines are streamed; an array or documents are read whole."""
    try:
        if _head_is_lines(path):
            with path.open(encoding="utf-8-sig") as handle:
                yield from iter_lines(handle, path, shape_object)
            return
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LibraryError.single(Location.of(path), f"not UTF-8 text: {exc.reason}") from None
    except OSError as exc:
        raise LibraryError.single(Location.of(path), f"cannot read: {exc.strerror}") from None
    yield from parse_json_text(text, path)
