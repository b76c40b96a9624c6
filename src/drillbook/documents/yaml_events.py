"""Build line-aware YAML documents from parser events, fast and safely.

Why not ruamel.yaml's round-trip loader for reading? It is pure Python and spends most
of its time collecting comments: about 80 ms for one 7 KB scenario, so a 40-scenario
library took over three seconds to lint. libyaml's event parser (through PyYAML, which
pySigma already requires) reads the same file in about 2 ms. This module walks those
events without recursion and builds ruamel ``CommentedMap``/``CommentedSeq`` containers
with the same line/column bookkeeping ruamel keeps (``node.lc``), so everything that
locates problems (:func:`drillbook.documents.yaml_io.locate`) works unchanged. Block and
quoted scalar styles are kept, so writing a document back keeps ``|`` blocks; comments
are not (:func:`drillbook.documents.yaml_io.load_roundtrip` reads those for a verbatim
export).

Safety: no object construction at all (scalars resolve to str, int, float, bool, None,
date and datetime by the YAML 1.2 core schema, like ruamel's round-trip loader), explicit
tags other than the core ones are refused, nesting depth is bounded, and aliases are
expanded as copies under a total node budget, so the "billion laughs" document fails
fast instead of exhausting memory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import yaml
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

MAX_DEPTH = 64
MAX_NODES = 100_000

_PARSER_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_CORE = "tag:yaml.org,2002:"
_SPECIAL_START = frozenset("0123456789+-.~nNtTfF")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^[-+]?[0-9]+$")
_INT_OCT = re.compile(r"^0o[0-7]+$")
_INT_HEX = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")
_DATE = re.compile(r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$")
_DATETIME = re.compile(
    r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[Tt]|[ \t]+)([0-9]{1,2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]*))?(?:[ \t]*(Z|[-+][0-9]{1,2}(?::?[0-9]{2})?))?$"
)


class BuildError(Exception):
    """A problem found while building; ``line``/``column`` are 1-based."""

    def __init__(self, line: int, column: int, message: str, code: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.message = message
        self.code = code


def _where(mark: Any) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


def _timestamp(found: re.Match[str]) -> datetime:
    year, month, day, hour, minute, second = (int(found.group(i)) for i in range(1, 7))
    fraction = found.group(7) or ""
    micro = int((fraction + "000000")[:6]) if fraction else 0
    zone = found.group(8)
    tz: timezone | None = None
    if zone == "Z":
        tz = UTC
    elif zone:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        hours, minutes = (
            (int(digits), 0) if len(digits) <= 2 else (int(digits[:-2]), int(digits[-2:]))
        )
        tz = timezone(sign * timedelta(hours=hours, minutes=minutes))
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)


def resolve_plain(value: str) -> Any:
    """A plain (unquoted, untagged) scalar by the YAML 1.2 core schema, plus dates."""
    if value and value[0] not in _SPECIAL_START:
        return value  # most scalars are words: no regex needed
    if _NULL.match(value):
        return None
    if value in _BOOL:
        return _BOOL[value]
    if _INT.match(value):
        return int(value)
    if _INT_OCT.match(value):
        return int(value[2:], 8)
    if _INT_HEX.match(value):
        return int(value[2:], 16)
    if _FLOAT.match(value):
        return float(value)
    if _INF.match(value):
        return float("-inf") if value.startswith("-") else float("inf")
    if _NAN.match(value):
        return float("nan")
    found = _DATE.match(value)
    if found:
        return date(int(found.group(1)), int(found.group(2)), int(found.group(3)))
    found = _DATETIME.match(value)
    if found:
        return _timestamp(found)
    return value


_STYLES: dict[str, type[str]] = {
    "|": LiteralScalarString,
    ">": FoldedScalarString,
    '"': DoubleQuotedScalarString,
    "'": SingleQuotedScalarString,
}


def _styled(value: str, style: str | None) -> str:
    kind = _STYLES.get(style or "")
    return kind(value) if kind is not None else value


def _tag_refused(tag: str) -> str:
    shown = "!!" + tag.removeprefix(_CORE) if tag.startswith(_CORE) else tag
    return f"YAML tag {shown} is not allowed; write plain values"


def _tagged(tag: str, value: str, style: str | None) -> Any:
    """A scalar with an explicit core tag (``!!str 10``)."""
    name = tag.removeprefix(_CORE)
    if name == "str":
        return _styled(value, style)
    resolved = resolve_plain(value)
    expected: dict[str, type | tuple[type, ...]] = {
        "int": int,
        "float": float,
        "bool": bool,
        "null": type(None),
        "timestamp": (date, datetime),
    }
    wanted = expected.get(name)
    if wanted is None:
        raise ValueError(_tag_refused(tag))
    if name == "float" and isinstance(resolved, int) and not isinstance(resolved, bool):
        return float(resolved)
    if not isinstance(resolved, wanted) or (name == "int" and isinstance(resolved, bool)):
        raise ValueError(f"'{value}' is not a valid !!{name}")
    return resolved


def _count_nodes(value: Any) -> int:
    total = 1
    stack = [value]
    while stack:
        item = stack.pop()
        children = (
            list(item.values())
            if isinstance(item, dict)
            else (item if isinstance(item, list) else [])
        )
        total += len(children)
        stack.extend(c for c in children if isinstance(c, dict | list))
    return total


def _clone(value: Any) -> Any:
    """A copy of a built tree with its positions (ruamel's own deepcopy also copies
    comment bookkeeping and is a hundred times slower). Depth is bounded by MAX_DEPTH."""
    if isinstance(value, CommentedMap):
        mapping = CommentedMap()
        mapping._yaml_set_line_col(value.lc.line, value.lc.col)
        for key, item in value.items():
            mapping[key] = _clone(item)
        if value.lc.data:
            mapping.lc.data = dict(value.lc.data)
        return mapping
    if isinstance(value, CommentedSeq):
        sequence = CommentedSeq(_clone(item) for item in value)
        sequence._yaml_set_line_col(value.lc.line, value.lc.col)
        if value.lc.data:
            sequence.lc.data = dict(value.lc.data)
        return sequence
    return value


_MERGE = object()


@dataclass
class _Frame:
    container: CommentedMap | CommentedSeq
    key: Any = None
    key_mark: tuple[int, int] | None = None
    has_key: bool = False
    merges: list[CommentedMap] = field(default_factory=list)


class DocumentBuilder:
    """Turns one event stream into documents (a list: the caller decides how many)."""

    def __init__(self, max_aliases: int) -> None:
        self.max_aliases = max_aliases
        self.aliases = 0
        self.nodes = 0
        self.anchors: dict[str, Any] = {}
        self.stack: list[_Frame] = []
        self.documents: list[Any] = []
        self._start_marks: list[Any] = []

    # -- placing a finished value into its parent -----------------------------------
    def _place(self, value: Any, mark: Any) -> None:
        line, column = mark.line, mark.column
        if not self.stack:
            self.documents.append(value)
            return
        frame = self.stack[-1]
        container = frame.container
        if isinstance(container, CommentedSeq):
            container.lc.add_idx_line_col(len(container), [line, column])
            container.append(value)
            return
        if not frame.has_key:
            if isinstance(value, dict | list):
                raise BuildError(
                    line + 1,
                    column + 1,
                    "a key must be a plain value, not a mapping or list",
                    "yaml",
                )
            frame.key, frame.key_mark, frame.has_key = value, (line, column), True
            return
        key, key_mark = frame.key, frame.key_mark
        assert key_mark is not None
        frame.has_key = False
        if key is _MERGE:
            sources = value if isinstance(value, list) else [value]
            if not all(isinstance(s, dict) for s in sources):
                raise BuildError(
                    line + 1,
                    column + 1,
                    "a merge key (<<) takes a mapping or a list of mappings",
                    "yaml",
                )
            frame.merges.extend(sources)
            return
        try:
            duplicate = key in container
        except TypeError:
            raise BuildError(
                key_mark[0] + 1, key_mark[1] + 1, "this key cannot be used as a mapping key", "yaml"
            ) from None
        if duplicate:
            first = container.lc.key(key)[0] + 1
            raise BuildError(
                key_mark[0] + 1,
                key_mark[1] + 1,
                f"invalid YAML: duplicate key '{key}' (first at line {first}); "
                "each key may appear once",
                "yaml",
            )
        container.lc.add_kv_line_col(key, [key_mark[0], key_mark[1], line, column])
        container[key] = value

    def _count(self, mark: Any, amount: int = 1) -> None:
        self.nodes += amount
        if self.nodes > MAX_NODES:
            line, column = _where(mark)
            raise BuildError(
                line,
                column,
                f"document expands to more than {MAX_NODES} values; write "
                "aliases out or split the file",
                "too-large",
            )

    def _check_tag(self, tag: str | None, mark: Any, allowed: tuple[str, ...]) -> None:
        if tag is None or tag == "!" or tag in allowed:
            return
        line, column = _where(mark)
        raise BuildError(line, column, _tag_refused(tag), "yaml-tag")

    # -- events ---------------------------------------------------------------------
    def feed(self, event: Any) -> None:
        mark = event.start_mark
        if isinstance(event, yaml.ScalarEvent):
            self._count(mark)
            value = self._scalar(event)
            self._anchor(event.anchor, value)
            if (
                self.stack
                and isinstance(self.stack[-1].container, CommentedMap)
                and not self.stack[-1].has_key
                and event.value == "<<"
                and event.style in (None, "")
                and event.tag is None
            ):
                value = _MERGE
            self._place(value, mark)
        elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            self._count(mark)
            is_map = isinstance(event, yaml.MappingStartEvent)
            self._check_tag(event.tag, mark, (_CORE + ("map" if is_map else "seq"),))
            if len(self.stack) >= MAX_DEPTH:
                line, column = _where(mark)
                raise BuildError(
                    line, column, f"YAML nested more than {MAX_DEPTH} levels deep", "yaml"
                )
            container: CommentedMap | CommentedSeq = CommentedMap() if is_map else (CommentedSeq())
            container._yaml_set_line_col(mark.line, mark.column)
            self._anchor(event.anchor, container)
            self.stack.append(_Frame(container))
            self._start_marks.append(mark)
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            frame = self.stack.pop()
            start = self._start_marks.pop()
            if isinstance(frame.container, CommentedMap):
                for source in frame.merges:
                    for key, value in source.items():
                        if key not in frame.container:
                            frame.container[key] = value
                            lc = source.lc.data.get(key) if source.lc.data else None
                            if lc is not None:
                                frame.container.lc.add_kv_line_col(key, lc)
            self._place(frame.container, start)
        elif isinstance(event, yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > self.max_aliases:
                line, column = _where(mark)
                raise BuildError(
                    line,
                    column,
                    f"more than {self.max_aliases} YAML aliases; write the values out instead",
                    "too-many-aliases",
                )
            if event.anchor not in self.anchors:
                line, column = _where(mark)
                raise BuildError(
                    line, column, f"invalid YAML: unknown alias *{event.anchor}", "yaml"
                )
            target = self.anchors[event.anchor]
            if isinstance(target, dict | list):
                self._count(mark, _count_nodes(target))
                target = _clone(target)
            self._place(target, mark)

    def _anchor(self, anchor: str | None, value: Any) -> None:
        if anchor is not None:
            self.anchors[anchor] = value

    def _scalar(self, event: Any) -> Any:
        tag, style, value = event.tag, event.style, event.value
        if tag is not None and tag != "!":
            try:
                return _tagged(tag, value, style)
            except ValueError as exc:
                line, column = _where(event.start_mark)
                code = "yaml-tag" if "not allowed" in str(exc) else "yaml"
                raise BuildError(line, column, str(exc), code) from None
        if style in (None, "") and tag is None:
            try:
                return resolve_plain(value)
            except ValueError as exc:
                line, column = _where(event.start_mark)
                raise BuildError(
                    line, column, f"'{value}' is not a valid date: {exc}", "yaml"
                ) from None
        return _styled(value, style)


def build_documents(text: str, max_aliases: int) -> list[Any]:
    """Every document in ``text``. Raises :class:`BuildError` or ``yaml.YAMLError``."""
    builder = DocumentBuilder(max_aliases)
    for event in yaml.parse(text, Loader=_PARSER_LOADER):
        builder.feed(event)
    return builder.documents
