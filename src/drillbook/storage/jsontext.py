"""JSON text built by the database, byte for byte what Python's encoder writes.

A program's outputs (100,000 findings with their history) spent most of their time in
Python turning each row into a dictionary and each dictionary into JSON. These
expressions have SQLite and PostgreSQL write the JSON text of a value themselves, in
exactly the form ``json.dumps(value, ensure_ascii=False)`` gives (``", "`` and ``": "``
separators, strings escaped the same way: ``\\"``, ``\\\\``, ``\\n`` and the other short
escapes, ``\\u00XX`` for the other control characters, everything else as it is), so a
caller only joins the pieces and writes them out:

* :class:`json_text` - a text column as a JSON string (``json_quote`` / ``to_json``);
* :class:`json_number` - an integer column;
* :class:`json_day` - a date as ``"YYYY-MM-DD"`` (``date.isoformat``);
* :class:`json_moment` - a stored UTC time as ``datetime.isoformat`` writes the aware
  value: ``"2026-01-02T03:04:05+00:00"``, with ``.ffffff`` only when there are
  microseconds;
* :func:`json_bool` and :func:`json_object_parts` - a condition, and an object's text
  from ``(name, JSON text)`` pairs.

Each of them gives ``null`` for SQL NULL. Tests compare the text with Python's on both
databases, including quotes, control characters and non-ASCII text.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, case, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from drillbook.storage.sqlfunctions import spell


def sql_literal(text: str) -> ColumnElement[str]:
    """``text`` inlined as an SQL string literal (quotes doubled)."""
    return literal_column("'" + text.replace("'", "''") + "'", String())


class _JsonPiece(FunctionElement[str]):
    type = String()
    inherit_cache = True


class json_text(_JsonPiece):
    """A text value as a JSON string, or ``null``."""

    inherit_cache = True


# a text column's affinity stores every value as text on SQLite: no CAST needed there
spell(
    json_text,
    sqlite="json_quote({v})",
    default="COALESCE(to_json(CAST({v} AS TEXT))::text, 'null')",
)


class json_number(_JsonPiece):
    """An integer value as a JSON number, or ``null``."""

    inherit_cache = True


spell(json_number, default="COALESCE(CAST({v} AS TEXT), 'null')")


class json_day(_JsonPiece):
    """A date as a JSON string ``"YYYY-MM-DD"``, or ``null``."""

    inherit_cache = True


# SQLite keeps a date as its ISO text (a datetime's text starts with it too)
spell(
    json_day,
    sqlite="""CASE WHEN {v} IS NULL THEN 'null' ELSE '"' || substr({v}, 1, 10) || '"' END""",
    default="COALESCE(to_json({v})::text, 'null')",
)


class json_moment(_JsonPiece):
    """A stored UTC time as the JSON string of its aware ``isoformat``, or ``null``."""

    inherit_cache = True


def moment_text_sqlite(v: str) -> str:
    """SQLite: the text of the stored UTC time ``v`` as the aware ``isoformat`` writes it
    (without quotes; NULL for NULL).

    SQLAlchemy writes 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC wall time, see storage.base): the
    space becomes a T, '.000000' is left out (in that layout there is one space, and six
    zeros after a dot only as the fraction). Any other text is read by SQLite's date
    functions (whole seconds)."""
    return (
        f"CASE WHEN length({v}) = 26 THEN replace(replace({v}, ' ', 'T'), '.000000', '')"
        f" || '+00:00' ELSE strftime('%Y-%m-%dT%H:%M:%S', {v}) || '+00:00' END"
    )


@compiles(json_moment, "sqlite")
def _moment_sqlite(element: json_moment, compiler: Any, **kw: Any) -> str:
    (value,) = list(element.clauses)
    v = compiler.process(value, **kw)
    return f"""CASE WHEN {v} IS NULL THEN 'null' ELSE '"' || {moment_text_sqlite(v)} || '"' END"""


@compiles(json_moment)
def _moment_default(element: json_moment, compiler: Any, **kw: Any) -> str:
    (value,) = list(element.clauses)
    utc = f"({compiler.process(value, **kw)} AT TIME ZONE 'UTC')"
    return (
        f"""COALESCE('"' || to_char({utc}, 'YYYY-MM-DD"T"HH24:MI:SS') || """
        f"CASE WHEN to_char({utc}, 'US') = '000000' THEN '' "
        f"ELSE '.' || to_char({utc}, 'US') END || '+00:00\"', 'null')"
    )


class json_raw(_JsonPiece):
    """A text that is JSON already (``true``, an array built by the database)."""

    inherit_cache = True


# on its own it is its text; inside jsonobject.json_object_of on SQLite, json() marks it
spell(json_raw, default="{v}")


def json_bool(condition: ColumnElement[bool]) -> json_raw:
    """``true`` or ``false`` (a NULL condition is false, as Python's ``and`` chain is)."""
    return json_raw(case((condition, literal_column("'true'")), else_=literal_column("'false'")))


def json_object_parts(
    pairs: Sequence[tuple[str, ColumnElement[str] | None]],
) -> list[ColumnElement[str]]:
    """The text of ``{"name": value, ...}`` from ``(name, JSON text)`` pairs, keys in
    their order, cut at each pair whose value is None (a value the caller writes itself):
    ``parts[0] + hole_0 + parts[1] + ... + parts[-1]`` is the object."""
    parts: list[ColumnElement[str]] = []
    current: ColumnElement[str] | None = None
    pending = "{"
    for index, (name, value) in enumerate(pairs):
        pending += ("" if index == 0 else ", ") + f'"{name}": '
        if value is None:
            parts.append(_joined(current, pending))
            current, pending = None, ""
            continue
        current = _joined(_joined(current, pending), value)
        pending = ""
    parts.append(_joined(current, pending + "}"))
    return parts


def _joined(left: ColumnElement[str] | None, right: ColumnElement[str] | str) -> ColumnElement[str]:
    right_expression = sql_literal(right) if isinstance(right, str) else right
    if isinstance(right, str) and not right:
        return left if left is not None else sql_literal("")
    return right_expression if left is None else left + right_expression


class json_member(_JsonPiece):
    """The JSON text of ``column``'s top-level ``key`` (``null`` when it is missing): a
    JSON column's member, to be decoded by the caller."""

    inherit_cache = True

    def __init__(self, column: Any, key: str) -> None:
        if not key.replace("_", "").isalnum():
            raise ValueError(f"JSON member name {key!r}: letters, digits and _ only")
        # the key as a clause, so that it is part of the statement's cache key
        super().__init__(column, literal_column(key))


def _member(element: json_member, compiler: Any, **kw: Any) -> tuple[str, str]:
    value, key = list(element.clauses)
    return compiler.process(value, **kw), str(key.name)


@compiles(json_member, "sqlite")
def _member_sqlite(element: json_member, compiler: Any, **kw: Any) -> str:
    value, key = _member(element, compiler, **kw)
    # most rows keep nothing there: '{}' needs no JSON parser
    return (
        f"CASE WHEN {value} = '{{}}' THEN 'null' "
        f"""ELSE json_quote(json_extract({value}, '$."{key}"')) END"""
    )


@compiles(json_member)
def _member_default(element: json_member, compiler: Any, **kw: Any) -> str:
    value, key = _member(element, compiler, **kw)
    return f"COALESCE(CAST(({value} -> '{key}') AS TEXT), 'null')"
