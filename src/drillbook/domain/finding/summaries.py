"""``finding list --json`` at a program's scale: each finding's JSON written by the database.

Building a dictionary per finding in Python (dates parsed and formatted back, ``extra``
decoded) and encoding it took most of the 4 to 7 s of a 100,000-finding list. Here the
database writes each finding's JSON text with the expressions of
:mod:`drillbook.storage.jsonobject` (byte for byte what ``json.dumps(finding_summary(f),
ensure_ascii=False, separators=(",", ":"))`` writes: compact, because SQLite writes such
an object in one ``json_object`` call, twice as fast as concatenating it), history
included (a correlated subquery aggregates the events in order); Python only fills in
``inferred`` (``extra``'s ``_inferred``, whose JSON the two databases keep differently:
decoded once per distinct value) and writes the lines out. The fields and their order are those of
:class:`~drillbook.domain.finding.views.FindingView` (the read model the web API and MCP
use) without ``trackers``, then ``history``, as ``finding_summary`` gives them; tests
compare the text on both databases.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_
from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.domain.finding.models import Finding, FindingEvent
from drillbook.domain.finding.service import _active_clause, findings_query
from drillbook.domain.finding.views import FindingView
from drillbook.storage.jsonobject import json_array_of, json_object_of
from drillbook.storage.jsontext import (
    json_bool,
    json_day,
    json_member,
    json_moment,
    json_number,
    json_text,
)
from drillbook.storage.twin import alternate_pages

PAGE = 5000
COMPACT = (",", ":")  # the separators of the text written here (json.dumps)
INFERRED_KEY = "_inferred"  # where ``inferred`` is kept in ``extra``
INFERRED, HISTORY = "inferred", "history"
# what finding_summary's history entries say, in order: JSON key -> event column
HISTORY_FIELDS = {
    "at": "at",
    "kind": "kind",
    "from": "from_status",
    "to": "to_status",
    "text": "text",
    "source_ref": "source_ref",
    "author": "author",
}
_TEXTS = frozenset(
    {
        "id",
        "severity",
        "status",
        "description",
        "proposed_remediation",
        "owner",
        "team",
        "change_type",
        "capability",
        "fix_location",
        "source",
        "source_ref",
        "rule",
        "technique",
    }
)
_DAYS = frozenset({"target_date", "due_date", "risk_expires"})
_MOMENTS = frozenset({"created_at", "closed_at"})


def summary_fields() -> list[str]:
    """The keys of a finding's summary, in order: the read model's, then its history."""
    return [name for name in FindingView.model_fields if name != "trackers"] + [HISTORY]


def _value(name: str, today: date, dialect: str) -> ColumnElement[str]:
    """The JSON piece of field ``name`` (not ``inferred``: Python fills that in)."""
    if name == HISTORY:
        return json_array_of(
            _event_object,
            table=FindingEvent.__table__,
            columns=["id", *HISTORY_FIELDS.values()],
            where=lambda events: events.finding_id == Finding.id,
            order_by=lambda events: (events.at, events.id),
            dialect=dialect,
        )
    column = Finding.__table__.c.get(name)
    if name in _TEXTS and column is not None:
        return json_text(column)
    if name in _DAYS and column is not None:
        return json_day(column)
    if name in _MOMENTS and column is not None:
        return json_moment(column)
    if name == "exercise_id":
        return json_number(Finding.exercise_id)
    if name == "overdue":
        return json_bool(
            and_(_active_clause(today), Finding.due_date.is_not(None), Finding.due_date < today)
        )
    raise LookupError(f"the finding summary's field {name!r} has no SQL form here")


def _event_object(columns: Any) -> json_object_of:
    return json_object_of(
        [
            (key, json_moment(columns[name]) if name == "at" else json_text(columns[name]))
            for key, name in HISTORY_FIELDS.items()
        ]
    )


class _Inferred:
    """``inferred``'s JSON text from the stored ``_inferred`` member's: a list's values as
    strings, anything else ``[]`` (as :attr:`Finding.inferred`). Few distinct values, so
    each is decoded once."""

    def __init__(self) -> None:
        self.known: dict[str, str] = {"null": "[]"}

    def __call__(self, raw: str | None) -> str:
        if raw is None:
            return "[]"
        text = self.known.get(raw)
        if text is None:
            value = json.loads(raw)
            listed = [str(v) for v in value] if isinstance(value, list) else []
            text = self.known[raw] = json.dumps(listed, ensure_ascii=False, separators=COMPACT)
        return text


def iter_summary_texts(
    session: Session,
    *,
    after: int = 0,
    limit: int | None = None,
    page: int = PAGE,
    **filters: Any,
) -> Iterator[tuple[str, str]]:
    """``(id, JSON text of finding_summary)`` of each finding matching ``filters`` (as
    ``findings_query``) with a number above ``after``, in number order, at most
    ``limit``."""
    today = clock.today()
    connection = session.connection()
    dialect = connection.dialect.name
    # four pieces, joined in Python: the object before ``inferred``, the raw member it
    # comes from, the object after it, and the history's array (as its own column:
    # inside the object SQLite would parse the array again, a fifth of the query)
    fields = summary_fields()
    hole = fields.index(INFERRED)
    if fields[-1] != HISTORY:
        raise LookupError("the finding summary's history is expected last")
    head, middle = (
        json_object_of([(name, _value(name, today, dialect)) for name in part])
        for part in (fields[:hole], fields[hole + 1 : -1])
    )
    history = _value(HISTORY, today, dialect)
    base = findings_query(**filters)
    rows_query = base.with_only_columns(
        Finding.number, Finding.id, head, json_member(Finding.extra, INFERRED_KEY), middle, history
    )
    # The numbers of the findings listed first, in one query; then the JSON of a page of
    # them at a time. With a filter the database may find the rows by another index (the
    # overdue ones by status) and sort them: paging by LIMIT then read every match again
    # per page and wrote its JSON before the LIMIT (3.6 s for the overdue list).
    numbers_query = base.with_only_columns(Finding.number).where(Finding.number > after)
    if limit is not None:
        numbers_query = numbers_query.limit(limit)
    numbers = connection.execute(numbers_query).scalars().all()
    filtered = base.whereclause is not None
    if filtered:
        # a page by its numbers (the unique index), not by the filter again
        rows_query = findings_query().with_only_columns(*rows_query.selected_columns)
    inferred = _Inferred()

    def texts(rows: Sequence[Any]) -> list[tuple[str, str]]:
        # '{...}' + inferred + '{...}' + history: one object
        return [
            (
                finding_id,
                f'{head_text[:-1]},"{INFERRED}":{inferred(raw)},{middle_text[1:-1]},'
                f'"{HISTORY}":{history_text}}}',
            )
            for _number, finding_id, head_text, raw, middle_text, history_text in rows
        ]

    size = min(page, _in_list_limit(connection.dialect.name))
    pages = []
    for start in range(0, len(numbers), size):
        chunk = numbers[start : start + size]
        where = (
            Finding.number.in_(chunk)
            if filtered
            else and_(Finding.number >= chunk[0], Finding.number <= chunk[-1])
        )
        pages.append(rows_query.where(where))
    # pages are written by two connections at once when the unit of work has a twin
    for written in alternate_pages(session, pages, texts):
        yield from written


def _in_list_limit(dialect: str) -> int:
    """How many values one IN list may bind (SQLite before 3.32 allowed 999)."""
    if dialect == "sqlite":
        import sqlite3

        return 30000 if sqlite3.sqlite_version_info >= (3, 32) else 900
    return 30000
