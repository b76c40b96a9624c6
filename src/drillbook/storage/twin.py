"""A second connection on the same snapshot, so that a long read uses both cores.

A program's longest outputs (100,000 findings' JSON) are one query per page, and all of
the time is the database writing the text: one core works while the other waits. A
*twin* is a second connection that reads exactly what the unit of work reads, so that
pages can be written by two connections at once (:func:`alternate_pages`) and the output
is still one consistent picture of the store:

* **PostgreSQL** exports the unit of work's snapshot (``pg_export_snapshot``) and the
  twin imports it (``SET TRANSACTION SNAPSHOT``); both are ``REPEATABLE READ READ ONLY``.
* **SQLite** (a file in WAL mode) has no such call in Python's driver. The twin notes the
  file's ``data_version`` before the unit of work takes its snapshot and again after
  taking its own; the value changes when any other connection commits, so the same value
  means no commit fell between the two snapshots and they are the same one. Otherwise
  (a writer was quick) there is no twin and the pages are read by one connection.

No twin at all for an in-memory database (one connection) or other databases; callers
work the same with or without one.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, cast

from sqlalchemy import Connection, Executable
from sqlalchemy.orm import Session

T = TypeVar("T")
TWIN_KEY = "drillbook_twin"
_STOPS_KEY = "drillbook_twin_stops"  # how to stop the threads using the twin
_HAND_OVER_S = 0.5  # how often a waiting page writer checks that it is still wanted


def open_twin(connect: Callable[[], Connection], session: Session) -> Connection | None:
    """A twin of ``session``'s connection, which has begun a read-only transaction and read
    nothing yet (SQLite takes its snapshot at the first read); ``connect`` gives a new
    read-only connection. None when there can be none; the caller closes the twin."""
    url = session.connection().engine.url
    dialect = url.get_dialect().name
    if dialect == "sqlite" and url.database not in (None, "", ":memory:"):
        return _sqlite_twin(connect, session)
    if dialect == "postgresql":
        return _postgres_twin(connect, session)
    return None


def _sqlite_twin(connect: Callable[[], Connection], session: Session) -> Connection | None:
    twin = connect()
    try:
        before = _data_version(twin)  # outside a transaction: the file as it is now
        twin.commit()
        _data_version(session.connection())  # the unit of work's snapshot starts here
        after = _data_version(twin)  # begins the twin's transaction: its snapshot
    except BaseException:
        twin.close()
        raise
    if before != after:  # someone committed in between: the snapshots may differ
        twin.close()
        return None
    return twin


def _data_version(connection: Connection) -> int:
    return int(connection.exec_driver_sql("PRAGMA data_version").scalar_one())


def _postgres_twin(connect: Callable[[], Connection], session: Session) -> Connection | None:
    snapshot = session.connection().exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
    if not str(snapshot).replace("-", "").isalnum():  # it is inlined below
        raise ValueError(f"unexpected snapshot name {snapshot!r}")
    twin = connect()  # REPEATABLE READ READ ONLY, nothing read yet
    try:
        twin.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
    except BaseException:
        twin.close()
        raise
    return twin


def alternate_pages(
    session: Session,
    pages: Sequence[Executable],
    convert: Callable[[Sequence[Any]], list[T]],
) -> Iterator[list[T]]:
    """The items ``convert(rows)`` of each page query, in page order. With a twin (see
    :meth:`~drillbook.storage.engine.Store.reading`), a thread runs every other page on
    it while this one runs the rest: at most one page waits ready, and leaving the
    loop early stops the thread. A failure in the thread is raised here."""
    twin = session.info.get(TWIN_KEY)
    connection = session.connection()
    if twin is None or len(pages) < 2:
        for page in pages:
            yield convert(connection.execute(page).all())
        return
    ready: queue.Queue[tuple[list[T] | None, BaseException | None]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def write_odd_pages() -> None:
        for page in pages[1::2]:
            try:
                item: tuple[list[T] | None, BaseException | None] = (
                    convert(twin.execute(page).all()),
                    None,
                )
            except BaseException as exc:  # handed to the reader, which raises it
                item = (None, exc)
            while not stop.is_set():
                try:
                    ready.put(item, timeout=_HAND_OVER_S)
                    break
                except queue.Full:
                    continue
            if stop.is_set() or item[1] is not None:
                return

    worker = threading.Thread(target=write_odd_pages, name="twin-pages", daemon=True)

    def stop_worker() -> None:
        stop.set()
        worker.join()

    # an error while the caller writes leaves this generator unfinished until it is
    # collected: the unit of work stops the thread before it closes the twin
    session.info.setdefault(_STOPS_KEY, []).append(stop_worker)
    worker.start()
    try:
        for index, page in enumerate(pages):
            if index % 2 == 0:
                yield convert(connection.execute(page).all())
                continue
            items, failure = ready.get()
            if failure is not None:
                raise failure
            assert items is not None
            yield items
    finally:
        stop_worker()


def rows_beside(
    session: Session, statement: Executable, *, hash_grouping: bool = False
) -> Callable[[], Sequence[Any]]:
    """Start ``statement`` on ``session``'s twin in a thread, so that one long query runs
    while the caller goes on with its others on the session; the function returned waits
    for the rows (and raises what the query raised). Without a twin, the statement runs on
    the session when the rows are asked for. ``hash_grouping``: a grouping known to have
    few groups (:func:`drillbook.storage.planner.grouping_by_hash`)."""
    from drillbook.storage.planner import grouping_by_hash

    def all_rows(connection: Connection) -> Sequence[Any]:
        if not hash_grouping:
            return connection.execute(statement).all()
        with grouping_by_hash(connection):
            return connection.execute(statement).all()

    twin = session.info.get(TWIN_KEY)
    if twin is None:
        return lambda: all_rows(session.connection())
    outcome: list[Any] = []

    def run() -> None:
        try:
            outcome.append(all_rows(twin))
        except BaseException as exc:  # handed to the caller, which raises it
            outcome.append(exc)

    worker = threading.Thread(target=run, name="twin-query", daemon=True)
    # the unit of work waits for the query before it closes the twin
    session.info.setdefault(_STOPS_KEY, []).append(worker.join)
    worker.start()

    def rows() -> Sequence[Any]:
        worker.join()
        (found,) = outcome
        if isinstance(found, BaseException):
            raise found
        return cast(Sequence[Any], found)

    return rows


def close_twin(session: Session) -> None:
    """Stop what uses ``session``'s twin, then close it (the end of the unit of work)."""
    for stop in session.info.pop(_STOPS_KEY, []):
        stop()
    twin = session.info.pop(TWIN_KEY, None)
    if twin is not None:
        twin.close()
