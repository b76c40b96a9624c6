"""SQL pieces that ranking and lint's repeat check read the findings with, written once
for SQLite and PostgreSQL (see :mod:`drillbook.storage.sqlfunctions`)."""

from __future__ import annotations

from sqlalchemy import ColumnElement, String, case, cast, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.wording import LINE, Texts
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


def read_texts(session: Session, *where: ColumnElement[bool]) -> Texts:
    """The descriptions of the findings matching ``where``, keyed by number, as one text:
    the database joins the numbers and the descriptions in one pass (two aggregates of
    one query see the rows in the same order); read again row by row in the rare case a
    description holds the separator."""
    count, numbers, joined = (
        session.connection()
        .execute(
            select(
                func.count(),
                joined_lines(cast(Finding.number, String)),
                joined_lines(Finding.description),
            ).where(*where)
        )
        .one()
    )
    texts = Texts(joined or "", numbers.split(LINE) if count else [])
    if texts.valid():
        return texts
    query = select(Finding.number, Finding.description).where(*where)
    return Texts.from_rows(session.connection().execute(query).all())
