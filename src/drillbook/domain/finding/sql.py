"""SQL pieces that ranking and lint's repeat check read the findings with, written once
for SQLite and PostgreSQL (see :mod:`drillbook.storage.sqlfunctions`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Integer, String, case, cast, func, literal, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.wording import KEY, Texts
from drillbook.storage.sqlfunctions import spell


class joined_lines(FunctionElement[str]):
    """The group's values joined by the record separator (``wording.LINE``): one text
    for a hundred thousand descriptions instead of as many rows."""

    type = String()
    inherit_cache = True


spell(joined_lines, sqlite="group_concat({v}, char(30))", default="string_agg({v}, chr(30))")


def source_key() -> ColumnElement[str]:
    """:func:`drillbook.domain.finding.ranking.source_key` as SQL: the run a finding
    came from."""
    return case(
        (Finding.exercise_id.is_not(None), "EX-" + cast(Finding.exercise_id, String)),
        (
            (Finding.source_ref.is_not(None)) & (Finding.source_ref != ""),
            Finding.source + ":" + Finding.source_ref,
        ),
        else_=Finding.source + ":" + Finding.id,
    )


def text_line(key: Any) -> ColumnElement[str]:
    """One line of :class:`~drillbook.domain.finding.wording.Texts`: key, separator,
    description."""
    return cast(key, String) + literal(KEY, String) + Finding.description


def read_texts(session: Session, *where: ColumnElement[bool]) -> Texts:
    """The descriptions of the findings matching ``where``, keyed by number, as one text
    (read again row by row in the rare case a description holds a separator)."""
    lines, joined = (
        session.connection()
        .execute(select(func.count(), joined_lines(text_line(Finding.number))).where(*where))
        .one()
    )
    texts = Texts(joined or "")
    if texts.valid(int(lines)):
        return texts
    return Texts.from_rows(
        session.connection()
        .execute(select(Finding.number, Finding.description).where(*where))
        .all()
    )


def as_int(value: Any) -> ColumnElement[int]:
    return literal(int(value), Integer)
