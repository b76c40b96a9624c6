"""``finding list --json`` at a program's scale: each finding's summary built straight
from the database's values, already as the JSON text values they are written as.

:func:`~drillbook.domain.finding.rows.iter_findings` plus
:func:`~drillbook.domain.finding.service.finding_summary` spent most of their time on
per-value conversions: SQLite's date and time strings parsed into datetimes (a regular
expression each), made timezone-aware, then formatted back to ISO text for JSON; the
``extra`` JSON column decoded for one key; then the JSON encoder's fallback called once
per datetime. Here the date and time columns are read as the database gives them and
turned into ISO text by the C ``fromisoformat``/``isoformat``, only ``extra``'s
``_inferred`` key is read, and ``is_active``/``overdue`` are compared as ISO dates. The
dictionaries equal ``finding_summary``'s after JSON encoding (keys in the same order,
values the same text); tests compare the two on both databases.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from drillbook import clock
from drillbook.domain.finding.enums import FindingStatus
from drillbook.domain.finding.models import Finding, FindingEvent
from drillbook.domain.finding.rows import PAGE
from drillbook.domain.finding.service import findings_query

ACTIVE = frozenset(str(s) for s in FindingStatus if s.active)
RISK_ACCEPTED = str(FindingStatus.RISK_ACCEPTED)
_DATES = ("target_date", "due_date", "risk_expires")
_MOMENTS = ("created_at", "closed_at")
_PLAIN = (
    "id",
    "number",
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
    "exercise_id",
    "rule",
    "technique",
)


def _raw(column: Any, name: str) -> Any:
    """The column as the driver returns it (no SQLAlchemy result conversion)."""
    return type_coerce(column, NullType()).label(name)


def iso_day(value: object) -> str | None:
    """A stored date as ISO text (SQLite gives the text, PostgreSQL a ``date``)."""
    if value is None:
        return None
    if isinstance(value, date):
        return value.isoformat()
    return date.fromisoformat(str(value)[:10]).isoformat()


def iso_moment(value: object) -> str | None:
    """A stored UTC moment as ``datetime.isoformat`` writes the aware value."""
    if value is None:
        return None
    if isinstance(value, str) and len(value) == 26 and value[10] == " " and value[19] == ".":
        # SQLAlchemy's SQLite format, always UTC wall time: isoformat's text by slicing
        micro = value[19:] if value[20:] != "000000" else ""
        return f"{value[:10]}T{value[11:19]}{micro}+00:00"
    if isinstance(value, datetime):
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment.isoformat()
    parsed = datetime.fromisoformat(str(value))
    moment = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return moment.isoformat()


def iter_summaries(
    session: Session,
    *,
    after: int = 0,
    limit: int | None = None,
    page: int = PAGE,
    **filters: Any,
) -> Iterator[dict[str, Any]]:
    """``finding_summary`` of each finding matching ``filters`` above number ``after``,
    in number order, at most ``limit``, as JSON-ready values."""
    table = Finding.__table__
    columns = [
        *(table.c[name] for name in _PLAIN),
        *(_raw(table.c[name], name) for name in (*_DATES, *_MOMENTS)),
        _raw(Finding.extra["_inferred"], "inferred"),
    ]
    events = FindingEvent.__table__.c
    event_columns = [
        events.finding_id,
        _raw(events.at, "at"),
        events.kind,
        events.from_status,
        events.to_status,
        events.text,
        events.source_ref,
        events.author,
    ]
    base = findings_query(**filters).with_only_columns(*columns)
    connection = session.connection()
    today = clock.today().isoformat()
    left = limit
    while left is None or left > 0:
        size = page if left is None else min(page, left)
        rows = connection.execute(base.where(Finding.number > after).limit(size)).all()
        if not rows:
            return
        history: dict[str, list[dict[str, Any]]] = {}
        for event in connection.execute(
            select(*event_columns)
            .where(events.finding_id.in_([r.id for r in rows]))
            .order_by(events.finding_id, events.at, events.id)
        ):
            history.setdefault(event.finding_id, []).append(
                {
                    "at": iso_moment(event.at),
                    "kind": event.kind,
                    "from": event.from_status,
                    "to": event.to_status,
                    "text": event.text,
                    "source_ref": event.source_ref,
                    "author": event.author,
                }
            )
        for row in rows:
            yield _summary(row, history.get(row.id, []), today)
        after = int(rows[-1].number)
        if left is not None:
            left -= len(rows)
        if len(rows) < size:
            return


def _summary(row: Any, history: list[dict[str, Any]], today: str) -> dict[str, Any]:
    due = iso_day(row.due_date)
    risk_expires = iso_day(row.risk_expires)
    if row.status == RISK_ACCEPTED:
        active = risk_expires is not None and risk_expires < today
    else:
        active = row.status in ACTIVE
    inferred = row.inferred
    if isinstance(inferred, str | bytes):  # SQLite: the JSON text; PostgreSQL: parsed
        inferred = None if inferred == "null" else json.loads(inferred)
    return {
        "id": row.id,
        "severity": row.severity,
        "status": row.status,
        "description": row.description,
        "proposed_remediation": row.proposed_remediation,
        "owner": row.owner,
        "team": row.team,
        "target_date": iso_day(row.target_date),
        "due_date": due,
        "overdue": active and due is not None and today > due,
        "change_type": row.change_type,
        "capability": row.capability,
        "inferred": [str(v) for v in inferred] if isinstance(inferred, list) else [],
        "fix_location": row.fix_location,
        "source": row.source,
        "source_ref": row.source_ref,
        "exercise_id": row.exercise_id,
        "rule": row.rule,
        "technique": row.technique,
        "risk_expires": risk_expires,
        "created_at": iso_moment(row.created_at),
        "closed_at": iso_moment(row.closed_at),
        "history": history,
    }
