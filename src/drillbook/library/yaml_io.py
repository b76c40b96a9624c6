"""Safe, line-aware YAML reading and tidy YAML writing.

Reading uses ruamel.yaml's round-trip loader: it never constructs arbitrary Python
objects, and every mapping and sequence remembers the line and column it came from, so
errors found later (by pydantic, by lint) can still name ``path:line:column``. Two bounds
keep a hostile file from exhausting memory: a size limit, and a limit on aliases (the
"billion laughs" document expands aliases exponentially when walked).

Writing keeps the key order given and uses literal block style (``|``) for multi-line
text, which is how the seed documents write scenarios and findings.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.scalarstring import LiteralScalarString

from drillbook.errors import LibraryError, Location, Problem

MAX_BYTES = 2 * 1024 * 1024
MAX_ALIASES = 64

LocPath = tuple[str | int, ...]


def _reader() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def load_text(text: str, path: str | Path = "<string>") -> Any:
    """Parse one YAML document from ``text``; raise :class:`LibraryError` with its location."""
    where = str(path)
    if len(text.encode("utf-8", errors="replace")) > MAX_BYTES:
        raise LibraryError.single(
            Location(where, 1, 1),
            f"file is larger than {MAX_BYTES // 1024} KiB; split it into smaller files",
            "too-large",
        )
    yaml = _reader()
    try:
        aliases = 0
        for event in yaml.parse(io.StringIO(text)):
            if isinstance(event, AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    mark = event.start_mark
                    raise LibraryError.single(
                        Location(where, mark.line + 1, mark.column + 1),
                        f"more than {MAX_ALIASES} YAML aliases; write the values out instead",
                        "too-many-aliases",
                    )
        documents = list(yaml.load_all(io.StringIO(text)))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        column = mark.column + 1 if mark is not None else 1
        detail = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        if "duplicate key" in detail or "found duplicate key" in str(exc):
            detail = _duplicate_key_message(str(exc))
        raise LibraryError.single(
            Location(where, line, column), f"invalid YAML: {detail.strip()}", "yaml"
        ) from None
    except YAMLError as exc:
        raise LibraryError.single(Location(where, 1, 1), f"invalid YAML: {exc}", "yaml") from None
    except RecursionError:
        raise LibraryError.single(
            Location(where, 1, 1), "YAML nested too deeply", "yaml"
        ) from None
    if len(documents) > 1:
        raise LibraryError.single(
            Location(where, 1, 1),
            "file holds more than one YAML document (---); keep one per file",
            "multiple-documents",
        )
    data = documents[0] if documents else None
    _reject_tags(data, where)
    return data


def load_file(path: Path) -> Any:
    """Read and parse ``path``; unreadable or non-UTF-8 files are located errors too."""
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
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LibraryError.single(
            Location(str(path), line, 1), "file is not UTF-8 text", "encoding"
        ) from None
    return load_text(text, path)


def load_mapping(path: Path, what: str) -> CommentedMap:
    """Load a file whose top level must be a mapping (every library file is one)."""
    data = load_file(path)
    if not isinstance(data, Mapping):
        kind = "empty" if data is None else f"a {type(data).__name__}"
        raise LibraryError.single(
            Location(str(path), 1, 1),
            f"{what} must be a YAML mapping of keys to values, but the file is {kind}",
            "not-a-mapping",
        )
    return data  # type: ignore[return-value]


def _duplicate_key_message(text: str) -> str:
    for line in text.splitlines():
        if "found duplicate key" in line:
            return line.strip().rstrip(".") + " (each key may appear once)"
    return "duplicate key (each key may appear once)"


def _reject_tags(node: Any, where: str) -> None:
    """Explicit tags (``!!python/object`` and friends) have no place in a library file."""
    tag = getattr(node, "tag", None)
    value = getattr(tag, "value", None) if tag is not None else None
    if value and not str(value).startswith("tag:yaml.org,2002:"):
        line, column = position(node)
        raise LibraryError.single(
            Location(where, line, column),
            f"YAML tag {value} is not allowed; write plain values",
            "yaml-tag",
        )
    if isinstance(node, Mapping):
        for child in node.values():
            _reject_tags(child, where)
    elif isinstance(node, list):
        for child in node:
            _reject_tags(child, where)


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


def _styled(value: Any) -> Any:
    if isinstance(value, Mapping):
        out = CommentedMap()
        for k, v in value.items():
            out[k] = _styled(v)
        return out
    if isinstance(value, list | tuple):
        return CommentedSeq([_styled(v) for v in value])
    if isinstance(value, str) and "\n" in value:
        return LiteralScalarString(value if value.endswith("\n") else value + "\n")
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


def problem_at(path: str | Path, root: Any, loc: LocPath, message: str, code: str,
               *, level: str = "error", key: bool = False) -> Problem:
    """A :class:`Problem` located at ``loc`` inside the document ``root`` read from ``path``."""
    line, column = locate(root, loc, key=key)
    return Problem(Location(str(path), line, column), message, code, level)  # type: ignore[arg-type]
