"""Safe, line-aware YAML reading and tidy YAML writing.

Reading walks libyaml's parser events (:mod:`drillbook.documents.yaml_events`, about 30
times faster than ruamel's pure-Python round-trip loader): it never constructs arbitrary
Python objects, and every mapping and sequence it builds is a ruamel container that
remembers the line and column it came from, so errors found later (by pydantic, by lint)
can still name ``path:line:column``. Bounds keep a hostile file from exhausting memory:
a size limit, a nesting limit, and a limit on aliases (the "billion laughs" document
expands aliases exponentially when walked). :func:`load_roundtrip` reads one file with
ruamel's round-trip loader when its comments must survive (a verbatim export).

Writing keeps the key order given and uses literal block style (``|``) for multi-line
text, which is how the seed documents write scenarios and findings.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString
from yaml import MarkedYAMLError
from yaml import YAMLError as PyYAMLError
from yaml.reader import ReaderError

from drillbook.documents.yaml_events import BuildError, build_documents
from drillbook.errors import Level, LibraryError, Location, Problem

MAX_BYTES = 2 * 1024 * 1024
MAX_ALIASES = 64

LocPath = tuple[str | int, ...]


def _reader() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def load_text(text: str, path: str | Path = "<string>") -> Any:
    """Parse one YAML document from ``text``; raise :class:`LibraryError` with its location.

    Reading goes through :mod:`drillbook.documents.yaml_events` (libyaml events, no object
    construction, bounded depth, aliases and size); the result carries ruamel's
    line/column bookkeeping so problems found later can be located.
    """
    where = str(path)
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise LibraryError.single(
            Location(where, 1, 1),
            f"file is larger than {MAX_BYTES // 1024} KiB; split it into smaller files",
            "too-large",
        )
    try:
        documents = build_documents(text, MAX_ALIASES)
    except BuildError as exc:
        raise LibraryError.single(
            Location(where, exc.line, exc.column), exc.message, exc.code
        ) from None
    except MarkedYAMLError as exc:
        line, column, detail = _syntax_problem(exc, text)
        raise LibraryError.single(
            Location(where, line, column), f"invalid YAML: {detail}", "yaml"
        ) from None
    except ReaderError as exc:
        before = text[: max(exc.position, 0)]
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        raise LibraryError.single(
            Location(where, line, column),
            f"invalid YAML: {_character(exc.character)} is not allowed in a YAML file",
            "yaml",
        ) from None
    except PyYAMLError as exc:
        raise LibraryError.single(Location(where, 1, 1), f"invalid YAML: {exc}", "yaml") from None
    except RecursionError:
        raise LibraryError.single(Location(where, 1, 1), "YAML nested too deeply", "yaml") from None
    if len(documents) > 1:
        raise LibraryError.single(
            Location(where, 1, 1),
            "file holds more than one YAML document (---); keep one per file",
            "multiple-documents",
        )
    return documents[0] if documents else None


def _syntax_problem(exc: MarkedYAMLError, text: str) -> tuple[int, int, str]:
    """Where a syntax error is, and a message that says what to do about it."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    column = mark.column + 1 if mark is not None else 1
    detail = str(exc.problem or exc.context or "syntax error").strip()
    lines = text.splitlines()
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    if "\t" in here[:column] or (column <= len(here) and here[column - 1 : column] == "\t"):
        detail = "a tab character; YAML indents with spaces only"
        return line, column, detail
    start = exc.context_mark
    if exc.context:
        detail += f" {str(exc.context).strip()}"
        if start is not None and mark is not None and start.line != mark.line:
            detail += f" that starts at line {start.line + 1}, column {start.column + 1}"
    return line, column, detail


def _character(value: object) -> str:
    code = value if isinstance(value, int) else ord(str(value)[:1] or "?")
    return f"control character U+{code:04X}"


def load_roundtrip(path: Path) -> Any:
    """``path`` read by ruamel's round-trip loader, comments and all, for a verbatim
    export. Slower than :func:`load_file`; the text is first checked by the same safe,
    bounded reader, so ruamel only ever sees a document that one accepted."""
    text = _read_text(path)
    load_text(text, path)
    try:
        return _reader().load(text)
    except YAMLError as exc:
        raise LibraryError.single(
            Location(str(path), 1, 1), f"invalid YAML: {exc}", "yaml"
        ) from None


def load_file(path: Path) -> Any:
    """Read and parse ``path``; unreadable or non-UTF-8 files are located errors too."""
    return load_text(_read_text(path), path)


def _read_text(path: Path) -> str:
    """The UTF-8 text of ``path`` (``-``: standard input), refusing oversized files
    before reading them."""
    if str(path) == "-":
        raw = sys.stdin.buffer.read(MAX_BYTES + 1)
        if len(raw) > MAX_BYTES:
            raise LibraryError.single(
                Location("-", 1, 1), f"input is larger than {MAX_BYTES // 1024} KiB", "too-large"
            )
        return _decode(raw, path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise LibraryError.single(
                Location(str(path), 1, 1),
                f"file is larger than {MAX_BYTES // 1024} KiB; split it into smaller files",
                "too-large",
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise LibraryError.single(
            Location(str(path)), f"cannot read file: {exc.strerror}", "unreadable"
        ) from None
    return _decode(raw, path)


def _decode(raw: bytes, path: Path) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LibraryError.single(
            Location(str(path), line, 1), "file is not UTF-8 text", "encoding"
        ) from None
    return text


def load_mapping(path: Path, what: str) -> CommentedMap:
    """Load a file whose top level must be a mapping (every library file is one)."""
    data = load_file(path)
    if not isinstance(data, Mapping):
        kind = (
            "empty"
            if data is None
            else ("a list" if isinstance(data, list) else f"a single value ({data!r})")
        )
        raise LibraryError.single(
            Location(str(path), 1, 1),
            f"{what} must be a YAML mapping of keys to values, but the file is {kind}",
            "not-a-mapping",
        )
    return data  # type: ignore[return-value]


def position(node: Any) -> tuple[int, int]:
    """1-based line and column of a mapping or sequence, (0, 0) when unknown."""
    lc = getattr(node, "lc", None)
    if lc is None or lc.line is None:
        return 0, 0
    return lc.line + 1, lc.col + 1


def locate(root: Any, loc: Sequence[str | int], *, key: bool = False) -> tuple[int, int]:
    """Line and column of the value at ``loc`` (or of its key with ``key=True``).

    Walks down as far as the document goes, so a missing key is reported at the mapping
    that should hold it.
    """
    node = root
    best = position(root)
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, CommentedMap) and part in node:
            try:
                if last and key:
                    line, col = node.lc.key(part)
                else:
                    line, col = node.lc.value(part)
                best = (line + 1, col + 1)
            except (KeyError, TypeError):
                pass
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            try:
                line, col = node.lc.item(part)
                best = (line + 1, col + 1)
            except (KeyError, TypeError, IndexError):
                pass
            node = node[part]
        else:
            break
    return best


def to_plain(node: Any) -> Any:
    """Convert ruamel containers and scalar subclasses to plain Python values."""
    if isinstance(node, Mapping):
        return {str(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    if isinstance(node, datetime | date):
        return node
    if isinstance(node, str):
        return str(node)
    return node


def _block_safe(text: str) -> bool:
    """A literal block cannot escape anything: only printable text may go in one."""
    return all(ch.isprintable() or ch == "\n" for ch in text) and not text.startswith(" ")


def _styled(value: Any) -> Any:
    if isinstance(value, Mapping):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = _styled(v)
        return out
    if isinstance(value, list | tuple):
        return CommentedSeq([_styled(v) for v in value])
    if isinstance(value, str) and "\n" in value and _block_safe(value):
        # kept exactly: no newline is added (ruamel writes |- when there is none)
        return LiteralScalarString(value)
    if isinstance(value, str) and not value.isprintable():
        # ruamel writes some non-printables (NEL, U+2028) raw, and readers take them for
        # line breaks; double quotes make it escape them
        return DoubleQuotedScalarString(value)
    return value


def dump_text(data: Any) -> str:
    """YAML text for ``data``; ruamel documents are written back as they were read."""
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 100
    buffer = io.StringIO()
    payload = data if isinstance(data, CommentedMap | CommentedSeq) else _styled(data)
    yaml.dump(payload, buffer)
    return buffer.getvalue()


def problem_at(
    path: str | Path,
    root: Any,
    loc: LocPath,
    message: str,
    code: str,
    *,
    level: Level = "error",
    key: bool = False,
) -> Problem:
    """A :class:`Problem` located at ``loc`` inside the document ``root`` read from ``path``."""
    line, column = locate(root, loc, key=key)
    return Problem(Location(str(path), line, column), message, code, level)
