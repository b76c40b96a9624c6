"""Read the backlog as plain rows, page by page, for output at a program's scale.

Loading 100,000 findings as ORM objects with their history took 14.7 s and 1.4 GB before
the first byte was written. Here each page (keyset on the finding number, so page N costs
what page 1 costs) is two Core queries: the findings' columns, then their history rows.
A :class:`FindingRow` carries the same attributes and derived properties as
:class:`~drillbook.domain.finding.models.Finding` (the properties are Finding's own
functions), so :func:`~drillbook.domain.finding.service.finding_summary` and the table
renderers take either.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import case, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from drillbook import clock
from drillbook.clock import ensure_utc
from drillbook.domain.finding.models import Finding, FindingEvent
from drillbook.domain.finding.service import findings_query

PAGE = 2000


class FindingRow:
    """A finding read without the ORM: column values as attributes, history as rows.
    Every property of :class:`Finding` (``is_active``, ``overdue``, ``inferred``, ...) is
    Finding's own function, copied below, so the two cannot disagree."""

    def __init__(self, values: Mapping[str, Any], history: list[Any]) -> None:
        self.__dict__.update(values)
        self.history = history

    def __getattr__(self, name: str) -> Any:  # only for attributes not set: say which
        raise AttributeError(f"FindingRow has no column {name!r}")


for _name, _value in vars(Finding).items():
    if isinstance(_value, property):
        setattr(FindingRow, _name, property(_value.fget))


def plain_findings(
    session: Session, names: Sequence[str], *where: Any, order_by: Any = Finding.number
) -> list[Finding]:
    """The findings matching ``where``, as :class:`FindingRow` s holding only the columns
    ``names`` (no ORM identity, no history): for the jobs that read a few columns of many
    findings (follow-up, escalation). Typed as :class:`Finding`, whose properties they
    share; reading any other column raises."""
    columns = [Finding.__table__.c[name] for name in names]
    query = select(*columns).where(*where).order_by(order_by)
    return [
        cast(Finding, FindingRow(dict(zip(names, row, strict=True)), []))
        for row in session.connection().execute(query)
    ]


def _extra(value: Any) -> dict[str, Any]:
    """The ``extra`` column's value: SQLite gives the JSON text, PostgreSQL the parsed
    value; ``{}`` (nearly every finding) needs no decoder."""
    if value is None or value == "{}":
        return {}
    if isinstance(value, str | bytes):
        value = json.loads(value)
    return value if isinstance(value, dict) else {}


def iter_findings(
    session: Session,
    *,
    after: int = 0,
    limit: int | None = None,
    history: bool = True,
    columns: Sequence[str] | None = None,
    page: int = PAGE,
    **filters: Any,
) -> Iterator[FindingRow]:
    """Findings matching ``filters`` (as ``findings_query``) with a number above
    ``after``, in number order, at most ``limit`` of them; only ``columns`` when given
    (``id`` and ``number`` always). Runs as Core on the session's connection: the ORM's
    per-row bookkeeping was most of the cost."""
    table = Finding.__table__
    wanted = (
        list(table.c)
        if columns is None
        else [table.c[name] for name in dict.fromkeys(["id", "number", *columns])]
    )
    names = [column.name for column in wanted]
    # ``extra`` as the driver gives it: almost always ``{}``, decoded only when it is not
    selected = [
        type_coerce(column, NullType()).label("extra") if column.name == "extra" else column
        for column in wanted
    ]
    event_columns = list(FindingEvent.__table__.c)
    base = findings_query(**filters).with_only_columns(*selected)
    connection = session.connection()
    left = limit
    while left is None or left > 0:
        size = page if left is None else min(page, left)
        # plain tuples zipped with the names: a mapping row builds its keys per row
        rows = [
            dict(zip(names, row, strict=True))
            for row in connection.execute(base.where(Finding.number > after).limit(size))
        ]
        if not rows:
            return
        if "extra" in names:
            for values in rows:
                values["extra"] = _extra(values["extra"])
        events: dict[str, list[Any]] = {}
        if history:
            ids = [r["id"] for r in rows]
            for event in connection.execute(
                select(*event_columns)
                .where(FindingEvent.finding_id.in_(ids))
                .order_by(FindingEvent.finding_id, FindingEvent.at, FindingEvent.id)
            ):
                events.setdefault(event.finding_id, []).append(event)
        for values in rows:
            yield FindingRow(values, events.get(values["id"], []))
        after = int(rows[-1]["number"])
        if left is not None:
            left -= len(rows)
        if len(rows) < size:
            return


class RankCandidate:
    """What ranking reads of an open fix to score it (the rows shown are read in full
    afterwards): a plain object, 40,000 of them cost little."""

    __slots__ = (
        "capability",
        "created_at",
        "description",
        "exercise_id",
        "id",
        "number",
        "severity",
        "source",
        "source_ref",
    )

    def __init__(self, values: Sequence[Any]) -> None:
        (
            self.id,
            self.number,
            self.capability,
            self.severity,
            created,
            self.description,
            self.exercise_id,
            self.source,
            self.source_ref,
        ) = values
        # as stored (SQLite: the UTC wall time as text): one C parse, no SQLAlchemy
        # processing per row
        if isinstance(created, datetime):
            self.created_at = ensure_utc(created)
        else:
            self.created_at = ensure_utc(datetime.fromisoformat(str(created)))


def rank_rows(
    session: Session, *, team: str | None = None
) -> tuple[list[RankCandidate], list[tuple[str, str, str | None, str]]]:
    """What ranking reads, in one pass over the findings: the open fixes (of ``team``) as
    candidates, and every finding as ``(id, source key, capability, description)`` (the
    key as :func:`~drillbook.domain.finding.ranking.source_key`)."""
    from drillbook.domain.finding.service import _active_clause

    query = select(
        Finding.id,
        Finding.number,
        Finding.capability,
        Finding.severity,
        type_coerce(Finding.created_at, NullType()),
        Finding.description,
        Finding.exercise_id,
        Finding.source,
        Finding.source_ref,
        Finding.team,
        case((_active_clause(clock.today()), 1), else_=0),
    )
    candidates: list[RankCandidate] = []
    sources: list[tuple[str, str, str | None, str]] = []
    for row in session.connection().execute(query).all():  # one fetch: fewer calls
        finding_id, _, capability, _, _, description, exercise_id, source, ref, owner, open_ = row
        key = (
            f"EX-{exercise_id}"
            if exercise_id is not None
            else f"{source}:{ref}"
            if ref
            else f"{source}:{finding_id}"
        )
        sources.append((finding_id, key, capability, description))
        if open_ and (team is None or owner == team):
            candidates.append(RankCandidate(row[:9]))
    return candidates, sources
