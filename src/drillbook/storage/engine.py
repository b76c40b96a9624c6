"""The store: an engine, migrations on first use, and sessions.

``Store(url)`` works for SQLite (the embedded default, a file in the library's
``.drillbook/`` folder) and PostgreSQL (``DRILLBOOK_DATABASE_URL``). Migrations run the
first time a store is opened, so a user never runs a separate upgrade step; Alembic's
``heads`` target lets each domain keep its own migration branch.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from drillbook.config import database_url
from drillbook.errors import ConfigError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = str(Path(__file__).with_name("migrations"))

# Modules whose tables are part of the schema; importing them registers the tables on
# Base.metadata (used by the migration check in the tests).
MODEL_MODULES = (
    "drillbook.storage.models",
    "drillbook.domain.exercise.models",
    "drillbook.domain.finding.models",
    "drillbook.domain.drill.models",
    "drillbook.domain.scorecard.models",
    "drillbook.domain.incident.models",
    "drillbook.domain.program.indexes",
)


def import_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        engine = create_engine(url, future=True)
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        raise ConfigError(f"database URL {redact(url)} is not usable: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else url
    return url


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # imported here: alembic is slow to import

    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema up to date (every branch head)."""
    from alembic import command

    try:
        with engine.begin() as connection:
            cfg = alembic_config(engine)
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, "heads")
    except OperationalError as exc:
        raise ConfigError(
            f"cannot open the store at {redact(str(engine.url))}: {exc.orig}; "
            "check DRILLBOOK_DATABASE_URL and that the database server is running"
        ) from None


class Store:
    """The operational database. Open once per process; sessions are short-lived."""

    def __init__(self, url: str, *, run_migrations: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url)
        if run_migrations:
            migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back on any error, so a
        failed command leaves stored data untouched."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def close(self) -> None:
        self.engine.dispose()


def open_store(library: Path | None) -> Store:
    """The store for ``library`` (or ``DRILLBOOK_DATABASE_URL``)."""
    return Store(database_url(library))
