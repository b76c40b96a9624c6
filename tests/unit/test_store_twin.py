"""A read-only unit of work's twin reads the same snapshot, on SQLite and PostgreSQL, and
the pages written by two connections come out whole, in order, and consistent while
another process commits; a writer quick enough to commit between the two snapshots means
no twin, not a mixed picture."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError

from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.service import create_finding
from drillbook.domain.finding.summaries import iter_summary_texts
from drillbook.errors import StoreError
from drillbook.storage import twin as twin_module
from drillbook.storage.engine import Store
from drillbook.storage.twin import TWIN_KEY, alternate_pages, rows_beside


def _seed(store: Store, count: int) -> None:
    with store.session() as session:
        for number in range(count):
            create_finding(
                session, description=f"gap {number}", severity="low", source="drill", owner="a"
            )


def _count(connection: Any) -> int:
    return int(connection.execute(select(func.count()).select_from(Finding)).scalar_one())


def test_the_twin_reads_the_units_snapshot(store: Store, fake_clock: Any) -> None:
    _seed(store, 3)
    with store.reading(twin=True) as session:
        twin = session.info[TWIN_KEY]
        assert twin is not None
        assert _count(session.connection()) == 3
        _seed(store, 2)  # committed by another connection after both snapshots began
        assert _count(twin) == 3
        assert _count(session.connection()) == 3
    with store.reading() as session:
        assert _count(session.connection()) == 5
    assert store.engine.pool.checkedout() == 0  # the twin went back


def test_sqlite_no_twin_when_a_commit_falls_between_the_snapshots(
    sqlite_store: Store, fake_clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _seed(sqlite_store, 1)
    real = twin_module._data_version
    calls: list[int] = []

    def commit_after_the_first_look(connection: Any) -> int:
        value = real(connection)
        calls.append(value)
        if len(calls) == 1:  # the twin looked; a writer commits before the unit reads
            _seed(sqlite_store, 1)
        return value

    monkeypatch.setattr(twin_module, "_data_version", commit_after_the_first_look)
    with sqlite_store.reading(twin=True) as session:
        assert session.info[TWIN_KEY] is None
        # the work goes on with one connection
        assert len(list(iter_summary_texts(session, page=1))) == 2


def test_a_memory_store_has_no_twin(fake_clock: Any) -> None:
    store = Store("sqlite://")
    try:
        _seed(store, 2)
        with store.reading(twin=True) as session:
            assert session.info[TWIN_KEY] is None
            assert len(list(iter_summary_texts(session, page=1))) == 2
    finally:
        store.close()


def test_pages_by_two_connections_equal_one_connections(store: Store, fake_clock: Any) -> None:
    _seed(store, 11)
    with store.reading() as session:
        alone = list(iter_summary_texts(session, page=2))
    with store.reading(twin=True) as session:
        assert session.info[TWIN_KEY] is not None
        paired = list(iter_summary_texts(session, page=2))
        filtered = list(iter_summary_texts(session, page=3, after=2, limit=7, owner="a"))
    assert paired == alone
    assert [i for i, _ in alone] == [f"F-{n:03d}" for n in range(1, 12)]
    assert filtered == alone[2:9]


def test_pages_stay_one_snapshot_while_another_process_commits(
    store: Store, fake_clock: Any
) -> None:
    _seed(store, 6)
    writer = Store(store.url)
    try:
        with store.reading(twin=True) as session:
            texts = iter_summary_texts(session, page=1)
            first = next(texts)
            with writer.session() as other:  # every later finding changes, one is added
                other.execute(update(Finding).values(owner="changed"))
                create_finding(other, description="new", severity="low", source="drill")
            rest = list(texts)
        assert first[0] == "F-001"
        assert [i for i, _ in rest] == [f"F-{n:03d}" for n in range(2, 7)]
        assert all('"owner":"a"' in text for _, text in rest)
    finally:
        writer.close()


class _Boom(RuntimeError):
    pass


def _pages(store: Store, count: int) -> list[Any]:
    return [select(Finding.number).where(Finding.number == n) for n in range(1, count + 1)]


def test_a_failure_on_the_twin_is_raised_in_order(store: Store, fake_clock: Any) -> None:
    _seed(store, 4)

    def convert(rows: Sequence[Any]) -> list[int]:
        numbers = [row[0] for row in rows]
        if numbers == [2]:
            raise _Boom("page 2")
        return numbers

    seen: list[int] = []
    with pytest.raises(_Boom), store.reading(twin=True) as session:
        assert session.info[TWIN_KEY] is not None
        for numbers in alternate_pages(session, _pages(store, 4), convert):
            seen += numbers
    assert seen == [1]
    assert not [t for t in threading.enumerate() if t.name == "twin-pages"]


def test_leaving_early_stops_the_thread_before_the_twin_closes(
    store: Store, fake_clock: Any
) -> None:
    _seed(store, 8)
    with pytest.raises(_Boom), store.reading(twin=True) as session:
        pages = alternate_pages(session, _pages(store, 8), lambda rows: [r[0] for r in rows])
        assert next(pages) == [1]
        assert next(pages) == [2]
        raise _Boom("the reader stopped (a closed pipe, say)")  # the generator is left open
    assert not [t for t in threading.enumerate() if t.name == "twin-pages"]
    assert store.engine.pool.checkedout() == 0


def test_a_write_in_a_twinned_unit_is_still_refused(store: Store, fake_clock: Any) -> None:
    _seed(store, 1)
    with pytest.raises(StoreError), store.reading(twin=True) as session:
        session.execute(update(Finding).values(owner="x"))


def test_a_query_beside_reads_the_units_snapshot_while_the_unit_goes_on(
    store: Store, fake_clock: Any
) -> None:
    _seed(store, 3)
    numbers = select(Finding.number).order_by(Finding.number)
    with store.reading(twin=True) as session:
        assert session.info[TWIN_KEY] is not None
        pending = rows_beside(session, numbers)
        _seed(store, 2)  # committed by another connection after both snapshots began
        assert _count(session.connection()) == 3
        assert [row[0] for row in pending()] == [1, 2, 3]
    with store.reading() as session:  # no twin: the same rows, read when asked for
        pending = rows_beside(session, numbers)
        assert [row[0] for row in pending()] == [1, 2, 3, 4, 5]
    assert not [t for t in threading.enumerate() if t.name == "twin-query"]
    assert store.engine.pool.checkedout() == 0


def test_a_failure_of_the_query_beside_is_raised_when_its_rows_are_asked_for(
    store: Store, fake_clock: Any
) -> None:
    _seed(store, 1)
    broken = select(Finding.number).where(func.no_such_function(Finding.number) == 1)
    with store.reading(twin=True) as session:
        pending = rows_beside(session, broken)
        assert _count(session.connection()) == 1  # the unit goes on meanwhile
        with pytest.raises(DBAPIError):
            pending()
    with store.reading(twin=True) as session:
        rows_beside(session, select(Finding.number))  # never asked for: the unit waits
    assert not [t for t in threading.enumerate() if t.name == "twin-query"]
    assert store.engine.pool.checkedout() == 0
