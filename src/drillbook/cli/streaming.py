"""Write long lists as they are read: a JSON array item by item, a table page by page.

The whole list never sits in memory as one document; the output is one JSON array, as
``print_json`` writes, with one item per line.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from drillbook.cli.output import _default, console, err_console, table

TABLE_PAGE = 500


def stream_json_list(items: Iterable[Any]) -> int:
    """Write ``items`` as one JSON array on stdout, one item per line; returns how many
    were written. Items are not indented: the indenting encoder is pure Python and took
    most of the time of a 100,000-finding list, the compact one is C."""
    out = sys.stdout
    encode = json.JSONEncoder(default=_default, ensure_ascii=False).encode
    count = 0
    out.write("[")
    for item in items:
        out.write(("," if count else "") + "\n" + encode(item))
        count += 1
    out.write("\n]\n" if count else "]\n")
    out.flush()
    return count


def stream_json_texts(texts: Iterable[str], *, batch: int = 1000) -> int:
    """Write items already encoded as JSON (each as ``json.dumps`` would write it) as one
    JSON array on stdout, exactly as :func:`stream_json_list` lays it out, ``batch``
    items a write."""
    out = sys.stdout
    count = 0
    waiting: list[str] = []
    out.write("[")
    for text in texts:
        waiting.append(text)
        if len(waiting) == batch:
            out.write(("," if count else "") + "\n" + ",\n".join(waiting))
            count += len(waiting)
            waiting = []
    if waiting:
        out.write(("," if count else "") + "\n" + ",\n".join(waiting))
        count += len(waiting)
    out.write("\n]\n" if count else "]\n")
    out.flush()
    return count


def stream_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Print ``rows`` as tables of :data:`TABLE_PAGE` rows (a table is laid out whole, so
    one table of 100,000 rows would wait for the last row); returns the row count."""
    page: list[Sequence[Any]] = []
    count = 0
    for row in rows:
        page.append(row)
        count += 1
        if len(page) == TABLE_PAGE:
            console.print(table(title if count == TABLE_PAGE else None, columns, page))
            page = []
    if page or not count:
        console.print(table(title if count <= TABLE_PAGE else None, columns, page))
    return count


def more_hint(next_cursor: str | None) -> None:
    """Say how to get the next page, or all of them (stderr, so JSON on stdout stays one
    document)."""
    if next_cursor:
        err_console.print(f"more: --cursor {next_cursor} (or --all for every one)", markup=False)


# the tightest layout, ``{"key":value,...}``: what SQLite's json_object writes
TIGHT = (",", ":")


def print_json_compact(data: Any, *, separators: tuple[str, str] | None = None) -> None:
    """One JSON document on stdout, unindented (C encoder): for outputs that grow with the
    program (follow-up of every fix), where indenting cost more than the query.
    ``separators``: :data:`TIGHT` where the database writes the items (``followup``)."""
    text = json.dumps(data, default=_default, ensure_ascii=False, separators=separators)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
