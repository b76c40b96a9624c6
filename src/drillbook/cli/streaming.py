"""Write long lists as they are read: a JSON array item by item, a table page by page.

The whole list never sits in memory as one document; the output is the same JSON array
``print_json`` would write (two-space indent), so scripts see no difference.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from typing import Any

from drillbook.cli.output import _default, console, err_console, table

TABLE_PAGE = 500


def stream_json_list(items: Iterable[Any]) -> int:
    """Write ``items`` as one JSON array on stdout; returns how many were written."""
    out = sys.stdout
    count = 0
    out.write("[")
    for item in items:
        text = json.dumps(item, default=_default, indent=2, ensure_ascii=False)
        out.write(("," if count else "") + "\n  " + text.replace("\n", "\n  "))
        count += 1
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
    """Say how to get the next page (stderr, so JSON on stdout stays one document)."""
    if next_cursor:
        err_console.print(f"more: --cursor {next_cursor}", markup=False)
