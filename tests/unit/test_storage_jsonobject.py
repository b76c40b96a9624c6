"""The database's compact JSON objects and arrays are the bytes Python's encoder writes
(``separators=(",", ":")``, ``ensure_ascii=False``), for any text, number, day and moment,
on SQLite (one ``json_object`` call) and PostgreSQL (concatenated)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import BigInteger, Column, Date, Integer, MetaData, Table, Text, insert, select

from drillbook.storage.base import UTCDateTime
from drillbook.storage.engine import Store
from drillbook.storage.jsonobject import json_array_of, json_object_of
from drillbook.storage.jsontext import json_bool, json_day, json_moment, json_number, json_text

META = MetaData()
PROBE = Table(
    "json_probe",
    META,
    Column("id", Integer, primary_key=True),
    Column("label", Text),
    Column("count", BigInteger),
    Column("day", Date),
    Column("moment", UTCDateTime),
)
ITEMS = Table(
    "json_probe_items",
    META,
    Column("id", Integer, primary_key=True),
    Column("probe", Integer, nullable=False),
    Column("label", Text),
)
# any text a database column holds: no NUL (PostgreSQL's text refuses it) and no lone
# surrogate (not encodable as UTF-8, so no driver can send it)
TEXTS = st.none() | st.text(
    st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=30
)
MOMENTS = st.none() | st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@pytest.fixture
def probe_store(store: Store) -> Store:
    META.create_all(store.engine)
    return store


def _row_object() -> json_object_of:
    return json_object_of(
        [
            ("label", json_text(PROBE.c.label)),
            ("count", json_number(PROBE.c.count)),
            ("day", json_day(PROBE.c.day)),
            ("moment", json_moment(PROBE.c.moment)),
            ("big", json_bool(PROBE.c.count > 0)),
            ('it\'s "odd"', json_text(PROBE.c.label)),  # a key that needs escaping
        ]
    )


def _expected(label: Any, count: Any, day: Any, moment: Any) -> str:
    value = {
        "label": label,
        "count": count,
        "day": day.isoformat() if day else None,
        "moment": moment.isoformat() if moment else None,
        "big": count is not None and count > 0,
        'it\'s "odd"': label,
    }
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    label=TEXTS,
    count=st.none() | st.integers(min_value=-(2**62), max_value=2**62),
    day=st.none() | st.dates(min_value=date(1900, 1, 1)),
    moment=MOMENTS,
    items=st.lists(TEXTS, max_size=4),
)
def test_objects_and_arrays_are_pythons_bytes(
    probe_store: Store, label: Any, count: Any, day: Any, moment: Any, items: list[Any]
) -> None:
    engine = probe_store.engine
    with engine.begin() as connection:
        connection.execute(PROBE.delete())
        connection.execute(ITEMS.delete())
        connection.execute(
            insert(PROBE), [{"id": 1, "label": label, "count": count, "day": day, "moment": moment}]
        )
        if items:
            # stored out of order: the array follows the order asked for
            connection.execute(
                insert(ITEMS),
                [
                    {"id": 100 - n, "probe": 1, "label": text}
                    for n, text in reversed(list(enumerate(items)))
                ],
            )
    array = json_array_of(
        lambda c: json_object_of([("label", json_text(c.label))]),
        table=ITEMS,
        columns=["id", "label"],
        where=lambda c: c.probe == PROBE.c.id,
        order_by=lambda c: (c.id.desc(),),
        dialect=engine.dialect.name,
    )
    with engine.connect() as connection:
        whole, listed = connection.execute(select(_row_object(), array)).one()
    assert whole == _expected(label, count, day, moment)
    expected_items = [{"label": text} for text in items]
    assert listed == json.dumps(expected_items, ensure_ascii=False, separators=(",", ":"))


def test_a_piece_that_is_not_json_is_refused() -> None:
    with pytest.raises(TypeError, match="label"):
        json_object_of([("label", PROBE.c.label)])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="at least one"):
        json_object_of([])
