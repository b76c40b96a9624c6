"""Compact JSON objects and arrays written by the database, one call per object on SQLite.

:mod:`drillbook.storage.jsontext` builds an object's text by concatenating the JSON text
of each value between literal keys: some forty ``||`` per finding, each one a copy of the
text so far. SQLite has ``json_object(key, value, ...)``, which writes a whole object in
one pass (with the same string escaping as ``json_quote``) in half the time; its layout
is the compact one, ``{"key":value,...}``, which is what
``json.dumps(value, ensure_ascii=False, separators=(",", ":"))`` writes. PostgreSQL has no
order-keeping equivalent (``json_build_object`` writes ``"key" : value``; ``jsonb`` sorts
the keys), so there the same layout is concatenated from the value texts.

* :class:`json_object_of` - ``{"key":value,...}`` from ``(key, value)`` pairs, each value
  one of jsontext's pieces (:class:`~.jsontext.json_text`, ``json_number``, ``json_day``,
  ``json_moment``) or :class:`json_raw` (a text that is JSON already);
* :func:`json_array_of` - ``[item,...]`` of a correlated set of rows, in order.

Each gives the bytes Python writes for the same value; tests compare them on both
databases, with quotes, control characters and non-ASCII text.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, String, func, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from drillbook.storage.jsontext import (
    json_day,
    json_moment,
    json_number,
    json_raw,
    json_text,
    moment_text_sqlite,
    sql_literal,
)


class json_object_of(FunctionElement[str]):
    """``{"key":value,...}``: the pairs' keys in their order, compact separators."""

    type = String()
    inherit_cache = True

    def __init__(self, pairs: Sequence[tuple[str, ColumnElement[Any]]]) -> None:
        if not pairs:
            raise ValueError("a JSON object needs at least one member here")
        clauses: list[ColumnElement[Any]] = []
        for key, value in pairs:
            if not isinstance(value, _VALUE_KINDS):
                raise TypeError(f"JSON member {key!r}: {type(value).__name__} is not a JSON piece")
            # the key as a clause, so that it is part of the statement's cache key
            clauses += [literal_column(_sql_string(key)), value]
        super().__init__(*clauses)


_VALUE_KINDS = (json_text, json_number, json_day, json_moment, json_raw)


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _pairs(element: json_object_of) -> list[tuple[str, Any]]:
    """The (key, piece) pairs, each key as written (not as its SQL literal)."""
    clauses = list(element.clauses)
    return [
        (str(clauses[i].name)[1:-1].replace("''", "'"), clauses[i + 1])
        for i in range(0, len(clauses), 2)
    ]


def _sqlite_value(value: Any, compiler: Any, **kw: Any) -> str:
    """What json_object takes for a piece: the plain value (NULL for null), or a JSON
    text marked as JSON by json() so that it is written as it is, not quoted."""
    (inner,) = list(value.clauses)
    v = str(compiler.process(inner, **kw))
    if isinstance(value, json_text | json_number):
        return v
    if isinstance(value, json_day):
        return f"substr({v}, 1, 10)"
    if isinstance(value, json_moment):
        return moment_text_sqlite(v)
    return f"json({v})"  # json_raw


@compiles(json_object_of, "sqlite")
def _object_sqlite(element: json_object_of, compiler: Any, **kw: Any) -> str:
    members = [
        f"{_sql_string(key)}, {_sqlite_value(value, compiler, **kw)}"
        for key, value in _pairs(element)
    ]
    return f"json_object({', '.join(members)})"


@compiles(json_object_of)
def _object_default(element: json_object_of, compiler: Any, **kw: Any) -> str:
    pieces = []
    for index, (key, value) in enumerate(_pairs(element)):
        lead = ("{" if index == 0 else ",") + json.dumps(key, ensure_ascii=False) + ":"
        pieces += [_sql_string(lead), compiler.process(value, **kw)]
    return " || ".join([*pieces, "'}'"])


def json_array_of(
    item_of: Callable[[Any], json_object_of],
    *,
    table: Any,
    columns: Sequence[str],
    where: Callable[[Any], ColumnElement[bool]],
    order_by: Callable[[Any], Sequence[Any]],
    dialect: str,
) -> json_raw:
    """``[item,...]`` (``[]`` when there are none): the objects ``item_of(columns)`` of the
    rows of ``table`` matching ``where(columns)`` (which names the outer query's row), in
    ``order_by(columns)`` order. ``columns`` are the ones ``item_of`` reads.

    SQLite aggregates an ordered subquery with ``json_group_array`` (it evaluates such a
    subquery in order and never flattens it into an aggregate; tests check the order),
    PostgreSQL says the order in ``string_agg``."""
    if dialect == "sqlite":
        ordered = (
            select(*(table.c[name] for name in columns))
            .where(where(table.c))
            .order_by(*order_by(table.c))
            .correlate_except(table)
            .subquery()
        )
        return json_raw(select(func.json_group_array(item_of(ordered.c))).scalar_subquery())
    from sqlalchemy.dialects.postgresql import aggregate_order_by

    in_order = aggregate_order_by(sql_literal(","), *order_by(table.c))
    joined = (
        select(func.string_agg(item_of(table.c), in_order))
        .where(where(table.c))
        .correlate_except(table)
        .scalar_subquery()
    )
    return json_raw(sql_literal("[") + func.coalesce(joined, sql_literal("")) + sql_literal("]"))
