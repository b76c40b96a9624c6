"""The store: an engine, the schema checked on first use, and sessions that hold.

``Store(url)`` works for SQLite (the embedded default, a file in the library's
``.drillbook/`` folder) and PostgreSQL (``DRILLBOOK_DATABASE_URL``). What a unit of work
promises, on both:

* **all or nothing**: committed when the block ends, rolled back on any error. On SQLite
  every transaction (DDL included) is a real ``BEGIN IMMEDIATE`` one: pysqlite's own
  transaction handling would run ``CREATE TABLE`` outside any transaction, which is how
  a killed first run used to leave a half-built schema;
* **no lost update**: records whose state changes carry a version column, every UPDATE of
  them is conditional on the version read, and a loser is refused with the record's
  current state named (:class:`~drillbook.errors.ConflictError`);
* **waits, then says why**: a store locked by another process is waited for (bounded by
  ``DRILLBOOK_STORE_TIMEOUT``), then refused naming the holder; a PostgreSQL server that
  does not answer is given up on after the same time; a dropped connection is noticed
  when a session starts (pre-ping) and replaced once;
* **acknowledged after commit**: a store opened for the command line holds back standard
  output written inside a unit of work until the commit succeeded (see
  :mod:`drillbook.storage.acknowledge`).

Damage and version skew are refused before anything is written (see
:mod:`drillbook.storage.sqlite_file` and :mod:`drillbook.storage.schema`).
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, pool
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from drillbook.config import database_url, setting
from drillbook.errors import ConfigError, ConflictError, StoreError
from drillbook.storage import sqlite_file
from drillbook.storage.acknowledge import held_until_commit
from drillbook.storage.schema import MIGRATIONS, ensure_schema
from drillbook.storage.twin import TWIN_KEY, close_twin, open_twin

__all__ = ["MIGRATIONS", "Store", "import_models", "make_engine", "open_store", "redact"]

# Modules whose tables are part of the schema; importing them registers the tables on
# Base.metadata (used by the migration check in the tests).
MODEL_MODULES = (
    "drillbook.storage.models",
    "drillbook.domain.exercise.models",
    "drillbook.domain.finding.models",
    "drillbook.domain.finding.tracking",
    "drillbook.domain.drill.models",
    "drillbook.domain.scorecard.models",
    "drillbook.domain.account.models",
    "drillbook.domain.incident.models",
    "drillbook.domain.finding.indexes",
    "drillbook.domain.program.indexes",
)
CONNECT_TIMEOUT_S = 10
SQLITE_BUSY_SLICE_MS = 1000  # one wait on the lock; the session retries until the deadline
IDLE_IN_TRANSACTION_S = 60  # a suspended process's transaction is ended by the server
READ_ONLY = "drillbook_read_only"  # execution option: this connection only reads


def import_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)


def store_timeout() -> float:
    """Seconds to wait for a locked or silent store (``DRILLBOOK_STORE_TIMEOUT``)."""
    raw = setting("DRILLBOOK_STORE_TIMEOUT")
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(
            f"DRILLBOOK_STORE_TIMEOUT={raw!r} is not a number of seconds; use e.g. 30"
        ) from None
    if value <= 0:
        raise ConfigError(f"DRILLBOOK_STORE_TIMEOUT={raw!r} must be more than 0 seconds")
    return value


def _normalise(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def make_engine(url: str, *, read_only: bool = False, timeout: float | None = None) -> Engine:
    """An engine with the house rules for its database (see the module docstring)."""
    url = _normalise(url)
    seconds = store_timeout() if timeout is None else timeout
    kwargs: dict[str, Any] = {}
    if url.startswith("postgresql"):
        connect = max(1, min(CONNECT_TIMEOUT_S, round(seconds)))
        kwargs = {"pool_pre_ping": True, "connect_args": {"connect_timeout": connect}}
    elif url in {"sqlite://", "sqlite:///:memory:"}:
        kwargs = {"poolclass": pool.StaticPool}  # one shared memory database
    try:
        engine = create_engine(url, **kwargs)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise ConfigError(f"database URL {redact(url)} is not usable: {exc}") from None
    if engine.dialect.name == "sqlite":
        _sqlite_rules(engine, read_only=read_only)
    elif engine.dialect.name == "postgresql":
        _postgres_rules(engine, timeout_ms=int(seconds * 1000))
    return engine


def _sqlite_rules(engine: Engine, *, read_only: bool) -> None:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we say BEGIN ourselves (see on_begin)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SLICE_MS}")
        cursor.close()

    def on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: a transaction that read under a shared
        # lock and then wants to write cannot wait for it (SQLite answers "locked" at
        # once), so writers queue at BEGIN instead, where the busy timeout applies.
        # Connections marked READ_ONLY (the schema check) only read.
        reading = read_only or connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

    event.listen(engine, "connect", on_connect)
    event.listen(engine, "begin", on_begin)


def _postgres_rules(engine: Engine, *, timeout_ms: int) -> None:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        cursor.execute(f"SET statement_timeout = {timeout_ms}")
        cursor.execute(f"SET idle_in_transaction_session_timeout = {IDLE_IN_TRANSACTION_S * 1000}")
        if dbapi_connection.info.server_version >= 110000:
            # No JIT compiling: a page of a long list is estimated costly when the planner
            # lacks statistics (right after a bulk load), and compiling it took 0.3 s
            # every page, longer than running it (7.7 s instead of 1.2 s for 100,000
            # findings).
            cursor.execute("SET jit = off")
        cursor.close()
        dbapi_connection.autocommit = autocommit

    event.listen(engine, "connect", on_connect)


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url


class _WriteWatch:
    """Whether a unit of work wrote anything: a flush, or an INSERT, UPDATE or DELETE run
    through the session. Held output is dropped on rollback only when something was
    written (its acknowledgement would be false); a read's output stays true."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.wrote = False
        event.listen(session, "after_flush", self._flushed)
        event.listen(session, "do_orm_execute", self._executed)

    def _flushed(self, *_args: Any) -> None:
        self.wrote = True

    def _executed(self, state: ORMExecuteState) -> None:
        if state.is_insert or state.is_update or state.is_delete:
            self.wrote = True

    def seen(self) -> bool:
        """Written, or about to be (objects added or changed but not yet flushed)."""
        pending = self.session.new or self.session.dirty or self.session.deleted
        return self.wrote or bool(pending)


class Store:
    """The operational database. Open once per process; sessions are short-lived.

    ``hold_output`` (the command line sets it) holds standard output written inside a unit
    of work until its commit; ``on_wait`` is told once when a session has to wait for the
    store (the CLI prints it, so a user knows why nothing happens)."""

    def __init__(
        self,
        url: str,
        *,
        run_migrations: bool = True,
        hold_output: bool = False,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.url = _normalise(url)
        self.hold_output = hold_output
        self.on_wait = on_wait
        self.timeout = store_timeout()
        self.file = sqlite_file.sqlite_path(self.url)
        self.read_only = False
        self.where = str(self.file) if self.file else redact(self.url)
        engine_url = self.url
        if self.file is not None:
            engine_url = self._prepare_file(self.file, run_migrations=run_migrations)
        self.engine = make_engine(engine_url, read_only=self.read_only, timeout=self.timeout)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        if self.read_only and engine_url == "sqlite://":
            self._empty_read_only_schema()
            return
        if run_migrations:
            self.guarded(lambda: ensure_schema(self.engine, self.where, read_only=self.read_only))

    # -- opening --------------------------------------------------------------------------

    def _prepare_file(self, path: Path, *, run_migrations: bool) -> str:
        if run_migrations and not path.parent.exists():
            with contextlib.suppress(OSError):  # a read-only library: see below
                path.parent.mkdir(parents=True)
        found = sqlite_file.inspect(path)
        if found.exists:
            if found.writable:
                return self.url
            self.read_only = True
            return sqlite_file.read_only_url(found)
        if not found.writable:
            # A read-only library without a store: nothing was ever recorded here, so the
            # read-only commands see an empty store and writing ones are refused.
            self.read_only = True
            return "sqlite://"
        if run_migrations:
            sqlite_file.create_atomically(path, self._build_new)
        return self.url

    def _build_new(self, url: str) -> None:
        sqlite_file.use_wal(url)
        engine = make_engine(url, timeout=self.timeout)
        try:
            self.guarded(lambda: ensure_schema(engine, self.where, read_only=False))
        finally:
            engine.dispose()  # the last connection closing folds the WAL into the file

    def _empty_read_only_schema(self) -> None:
        """Build the schema in the memory database, then forbid writes to it."""
        ensure_schema(self.engine, self.where, read_only=False)
        with self.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA query_only=ON")

    def guarded(self, action: Callable[[], Any]) -> Any:
        """Run ``action`` with the store's errors turned into readable ones."""
        try:
            return self._retrying_lock(action)
        except (DBAPIError, SQLAlchemyError) as exc:
            raise self.explain(exc) from None

    def _retrying_lock(self, action: Callable[[], Any]) -> Any:
        deadline = time.monotonic() + self.timeout
        told = False
        while True:
            try:
                return action()
            except DBAPIError as exc:
                if not _locked(exc) or time.monotonic() >= deadline:
                    raise
                if not told and self.on_wait is not None:
                    self.on_wait(f"waiting for the store: {self._holder()} holds it")
                    told = True
                time.sleep(0.05)

    # -- units of work ----------------------------------------------------------------------

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on any error, so a
        failed command leaves stored data untouched (and acknowledges nothing)."""
        with held_until_commit(self.hold_output) as held:
            queue = self._join_writers()
            try:
                session = self.guarded(self._begin)
                writes = _WriteWatch(session)
                try:
                    yield session
                    session.commit()
                except BaseException as exc:
                    stale = _versioned_objects(session) if isinstance(exc, StaleDataError) else []
                    wrote = writes.seen()
                    session.rollback()
                    if held is not None and not wrote:
                        # A unit of work that wrote nothing and stopped early (`finding list
                        # --problems` exiting 1): what it printed is still true.
                        held.release()
                    if isinstance(exc, StaleDataError):
                        raise self._conflict(stale) from None
                    if isinstance(exc, DBAPIError):
                        raise self.explain(exc) from None
                    raise
                finally:
                    session.close()
            finally:
                if queue is not None:
                    queue.release()
        if held is not None:
            held.release()

    @contextmanager
    def reading(self, *, twin: bool = False) -> Iterator[Session]:
        """A unit of work that only reads, for outputs that grow with the program.

        Unlike :meth:`session`, what it prints is not held until a commit (there is
        nothing to acknowledge, and holding 100,000 findings' JSON in memory before the
        first byte was most of a long list's cost), it does not queue behind SQLite's
        writers (a plain ``BEGIN``: readers do not block each other), and on PostgreSQL
        the transaction is ``REPEATABLE READ READ ONLY`` (one snapshot for every page).
        It ends with a rollback; a write inside it is a programming error and is refused.

        ``twin``: also open a second connection on the same snapshot where the database
        allows it (:mod:`drillbook.storage.twin`), for :func:`~.twin.alternate_pages`."""
        session = self.guarded(self._begin_reading)
        writes = _WriteWatch(session)
        try:
            if twin:
                second = self.guarded(lambda: open_twin(self._read_only_connection, session))
                session.info[TWIN_KEY] = second
            yield session
            if writes.seen():
                raise StoreError("a read-only unit of work tried to write; nothing was stored")
        except DBAPIError as exc:
            raise self.explain(exc) from None
        finally:
            close_twin(session)
            session.rollback()
            session.close()

    def _read_only_connection(self) -> Connection:
        connection = self.engine.connect().execution_options(**{READ_ONLY: True})
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return connection

    def _begin_reading(self) -> Session:
        session = self._sessions()
        try:
            connection = session.connection(execution_options={READ_ONLY: True})
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"
                )
        except BaseException:
            session.close()
            raise
        return session

    def _join_writers(self) -> sqlite_file.WriterQueue | None:
        """SQLite: wait for our turn to write (see :class:`~.sqlite_file.WriterQueue`)."""
        if self.file is None or self.read_only:
            return None
        queue = sqlite_file.WriterQueue(self.file)
        deadline = time.monotonic() + self.timeout

        def tell() -> None:
            if self.on_wait is not None:
                self.on_wait(f"waiting for the store: {self._holder()} holds it")

        if not queue.acquire(deadline, tell):
            raise self._locked_error()
        return queue

    def _begin(self) -> Session:
        """A session whose transaction has begun (on SQLite: holding the write lock)."""
        session = self._sessions()
        try:
            session.connection()
        except BaseException:
            session.close()
            raise
        return session

    def _conflict(self, stale: list[tuple[type[Any], Any]]) -> ConflictError:
        described: list[str] = []
        with self._sessions() as fresh:
            for cls, key in stale:
                current = fresh.get(cls, key)
                label = getattr(current, "label", None) or f"{cls.__name__} {key}"
                status = getattr(current, "status", None)
                now = f"it is now {status}" if status else "it has been deleted"
                described.append(f"{label} ({now})")
        what = ", ".join(described) or "a record"
        return ConflictError(
            f"{what} was changed by another process while this command ran; nothing was "
            "changed here. Check the current state and run the command again if it still "
            "applies."
        )

    # -- errors -----------------------------------------------------------------------------

    def _locked_error(self) -> StoreError:
        return StoreError(
            f"{self.where}: the store is locked by {self._holder()}; waited "
            f"{self.timeout:g} s (DRILLBOOK_STORE_TIMEOUT). Try again when it finishes, "
            "or stop that process.",
            retry_later=True,
        )

    def _holder(self) -> str:
        return sqlite_file.describe_holder(self.file) if self.file else "another process"

    def explain(self, exc: SQLAlchemyError) -> StoreError:
        """One readable message for a database error: what, which store, what to do."""
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        lowered = detail.lower()
        code = str(getattr(getattr(exc, "orig", None), "sqlstate", "") or "")
        if _locked(exc):
            return self._locked_error()
        if "readonly" in lowered or "read-only" in lowered or "query_only" in lowered:
            return StoreError(
                f"{self.where}: the store cannot be written here (read-only file or "
                "library); commands that only read still work. Make it writable or set "
                "DRILLBOOK_DATABASE_URL to a writable store."
            )
        if "not a database" in lowered or "malformed" in lowered:
            return sqlite_file.damaged(Path(self.where), detail)
        if code == "57014":  # query_canceled: statement_timeout
            return StoreError(
                f"{self.where}: the store did not answer within {self.timeout:g} s "
                "(DRILLBOOK_STORE_TIMEOUT); another process may hold a lock on the same "
                "records, or the server is overloaded. Nothing was changed; try again.",
                retry_later=True,
            )
        if code.startswith("08") or code.startswith("57P") or _disconnect(exc):
            return StoreError(
                f"cannot reach the store at {self.where}: {detail}; check that the database "
                "server is running and DRILLBOOK_DATABASE_URL. Nothing was changed.",
                retry_later=True,
            )
        return StoreError(f"{self.where}: the store refused the operation: {detail}")

    def close(self) -> None:
        self.engine.dispose()


def _locked(exc: BaseException) -> bool:
    text_ = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text_ or "database is busy" in text_ or "55p03" in text_


def _disconnect(exc: BaseException) -> bool:
    """A lost or refused connection to a server (never said of SQLite)."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    orig = getattr(exc, "orig", exc)
    if not type(orig).__module__.startswith("psycopg"):
        return False
    import psycopg

    return isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError)


def _versioned_objects(session: Session) -> list[tuple[type[Any], Any]]:
    """The changed records that carry a version column (the ones a conflict is about)."""
    found: list[tuple[type[Any], Any]] = []
    for obj in list(session.dirty) + list(session.deleted):
        mapper = getattr(type(obj), "__mapper__", None)
        if mapper is not None and mapper.version_id_col is not None:
            identity = mapper.primary_key_from_instance(obj)
            found.append((type(obj), identity[0] if len(identity) == 1 else tuple(identity)))
    return found


def open_store(
    library: Path | None,
    *,
    hold_output: bool = False,
    on_wait: Callable[[str], None] | None = None,
) -> Store:
    """The store for ``library`` (or ``DRILLBOOK_DATABASE_URL``); see :class:`Store` for
    ``hold_output`` and ``on_wait`` (the command line sets both)."""
    return Store(database_url(library), hold_output=hold_output, on_wait=on_wait)
