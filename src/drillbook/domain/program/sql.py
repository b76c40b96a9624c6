"""Portable SQL expressions the program's aggregates need, compiled per database.

SQLite and PostgreSQL spell date arithmetic and string aggregation differently; these
small SQLAlchemy constructs let the metrics queries be written once. Percentiles use the
nearest-rank method through window functions (``ROW_NUMBER``/``COUNT OVER``), which both
databases have, so a median over a hundred thousand findings is computed by the
database, not by loading the rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Date, Float, String, case, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement
from sqlalchemy.sql.selectable import Select, Subquery

from drillbook.storage.sqlfunctions import spell


class days_between(FunctionElement[float]):
    """Days (fractional) from the first datetime argument to the second."""

    type = Float()
    inherit_cache = True


@compiles(days_between, "sqlite")
def _days_sqlite(element: days_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"(julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)}))"
    )


@compiles(days_between)
def _days_default(element: days_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - "
        f"{compiler.process(start, **kw)})) / 86400.0)"
    )


class plain(FunctionElement[Any]):
    """A column's value as stored, for comparing in a select list. SQLite gives a date
    or time column numeric affinity, and compares a value with it by first trying to read
    the other side as a number (it never is: dates are stored as text), on every row;
    ``+column`` has no affinity, so it compares the text at once. A tenth of the
    metrics' time went on those attempts. Not for ``WHERE``: SQLite uses no index for it.
    Other databases: the column."""

    inherit_cache = True

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type


spell(plain, sqlite="+{v}", default="{v}")


class bytewise(FunctionElement[str]):
    """Text compared byte by byte, for grouping keys (only equality matters there):
    ``COLLATE "C"`` on PostgreSQL, which otherwise compares every pair of keys through
    the C library's locale (and without 8-byte prefix keys) when it sorts a hundred
    thousand rows to group them. SQLite compares bytes already."""

    type = String()
    inherit_cache = True


spell(bytewise, sqlite="{v}", default='({v}) COLLATE "C"')


class quarter_label(FunctionElement[str]):
    """``2026-Q3`` for a date or datetime column."""

    type = String()
    inherit_cache = True


spell(
    quarter_label,
    sqlite="(strftime('%Y', {v}) || '-Q' || "
    "CAST(((CAST(strftime('%m', {v}) AS INTEGER) + 2) / 3) AS TEXT))",
    default="(to_char({v}, 'YYYY') || '-Q' || to_char({v}, 'Q'))",
)


class joined_text(FunctionElement[str]):
    """The group's values joined with ``,`` (``group_concat`` / ``string_agg``). Not
    DISTINCT: a distinct aggregate cannot be hashed, so PostgreSQL sorted every row of a
    100,000-finding grouping on disk for it; callers group so that values do not repeat."""

    type = String()
    inherit_cache = True


spell(joined_text, sqlite="group_concat({v})", default="string_agg(CAST({v} AS TEXT), ',')")


class joined_distinct_text(FunctionElement[str]):
    """:class:`joined_text` of the group's distinct values (``group_concat(DISTINCT ...)``;
    SQLite aggregates it cheaper than a second grouping)."""

    type = String()
    inherit_cache = True


spell(
    joined_distinct_text,
    sqlite="group_concat(DISTINCT {v})",
    default="string_agg(DISTINCT CAST({v} AS TEXT), ',')",
)


def split_joined(text: str | None) -> list[str]:
    """The values of a :class:`joined_text` column, sorted (the databases' order differs)."""
    return sorted(v for v in (text or "").split(",") if v)


PERCENTILES = (("median", 50), ("p90", 90))


def nearest_rank(n: int, percent: int) -> int:
    """The rank (1-based) of the ``percent``-th percentile of ``n`` sorted values by
    nearest rank: ceil(percent / 100 * n), in integers."""
    return (n * percent + 99) // 100


def value_at_rank(values: Select[Any], value: Any, n: int, rank: int) -> Select[Any]:
    """``values`` (``n`` rows) cut to the one at ``rank`` in the order of ``value``,
    counted from whichever end is nearer: a database keeps only the rows up to the
    offset while sorting (a top-N sort), so the 90th percentile keeps a tenth of them."""
    if rank - 1 <= n - rank:
        return values.order_by(value).offset(rank - 1).limit(1)
    return values.order_by(value.desc()).offset(n - rank).limit(1)


def percentiles(rows: Subquery, group: str | None = None, value_name: str = "value") -> Any:
    """A select of ``([group,] n, median, p90)`` over ``rows.c[value_name]`` by nearest
    rank: the p-th percentile of n sorted values is the value at rank ceil(p * n)."""
    value = rows.c[value_name]
    partition = [rows.c[group]] if group is not None else None
    ranked = select(
        *(partition or []),
        value.label("v"),
        func.row_number().over(partition_by=partition, order_by=value).label("rn"),
        func.count().over(partition_by=partition).label("n"),
    ).subquery()
    n = ranked.c.n
    rank50 = (n * 50 + 99) // 100
    rank90 = (n * 90 + 99) // 100
    keys = [ranked.c[group]] if group is not None else []
    return select(
        *keys,
        func.max(n).label("n"),
        func.max(case((ranked.c.rn == rank50, ranked.c.v))).label("median"),
        func.max(case((ranked.c.rn == rank90, ranked.c.v))).label("p90"),
    ).group_by(*keys)


class utc_day(FunctionElement[date]):
    """The UTC calendar day of a stored time (SQLite keeps the UTC wall time as text)."""

    type = Date()
    inherit_cache = True


spell(
    utc_day,
    sqlite="substr({v}, 1, 10)",
    default="CAST(({v} AT TIME ZONE 'UTC') AS DATE)",
)
