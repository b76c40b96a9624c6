"""The schema's version: checked on every open, upgraded under a lock, recorded in the store.

Opening a store compares the migrations it has applied (``alembic_version``) with the ones
this drillbook ships:

* the same: nothing to do (a read, no lock);
* some it does not know: the store was written by a newer drillbook, and one message says
  which migration and which version, instead of Alembic's "Can't locate revision";
* fewer: it is upgraded on use. One process upgrades while holding the store's write lock
  (SQLite: ``BEGIN IMMEDIATE``, taken before reading the version; PostgreSQL: a
  transaction-scoped advisory lock), in one transaction, so the others wait and then find
  it current, and a process killed mid-upgrade leaves the previous version intact.

The store also records which drillbook changed its schema last and the newest drillbook
that wrote to it (``store_meta``), which is what the newer-store message quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, Engine, inspect, text

from drillbook import __version__
from drillbook.errors import StoreError
from drillbook.storage import revisions

MIGRATIONS = str(Path(__file__).with_name("migrations"))
MIGRATION_LOCK = "drillbook.migrate"


def shipped_heads() -> frozenset[str]:
    """The newest migration of each branch this drillbook ships. A store is current when
    each is applied or covered by an applied one (see :meth:`SchemaState.current`).
    Read from the migration files without importing Alembic (:mod:`.revisions`)."""
    return revisions.heads()


@lru_cache(maxsize=8)
def covered_revisions(applied: frozenset[str]) -> frozenset[str]:
    """The applied revisions with all their ancestors and dependencies."""
    return revisions.covered(applied)


def shipped_revisions() -> frozenset[str]:
    return frozenset(revisions.shipped())


@dataclass(frozen=True)
class SchemaState:
    """Where a store's schema stands against this drillbook."""

    applied: frozenset[str]
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def unknown(self) -> frozenset[str]:
        return self.applied - shipped_revisions()

    @property
    def current(self) -> bool:
        """Every shipped head is applied, or an ancestor or dependency of an applied one.

        Alembic drops a revision from ``alembic_version`` once a later one that depends on
        it is applied (``0016_program`` depends on ``0014_web_accounts``), so the version
        table is not simply the set of heads."""
        if not self.applied or self.unknown:
            return False
        return shipped_heads() <= covered_revisions(self.applied)

    @property
    def empty(self) -> bool:
        return not self.applied


def read_state(connection: Connection) -> SchemaState:
    """The applied migrations and the store's facts, read without a lock."""
    tables = set(inspect(connection).get_table_names())
    applied: frozenset[str] = frozenset()
    if "alembic_version" in tables:
        applied = frozenset(
            str(row[0])
            for row in connection.execute(text("SELECT version_num FROM alembic_version"))
        )
    meta: dict[str, str] = {}
    if "store_meta" in tables:
        meta = {
            str(key): str(value)
            for key, value in connection.execute(text("SELECT key, value FROM store_meta"))
        }
    return SchemaState(applied, meta)


def newer_store_error(where: str, state: SchemaState) -> StoreError:
    writer = state.meta.get("schema_written_by") or state.meta.get("newest_writer")
    origin = f"drillbook {writer}" if writer else "a newer drillbook"
    return StoreError(
        f"{where}: this store is at migration {', '.join(sorted(state.unknown))} from "
        f"{origin}; this is drillbook {__version__}, which does not know that migration. "
        "Upgrade drillbook (everyone sharing the store needs the same or a newer version); "
        "the store was left as it is."
    )


def _version_key(version: str) -> tuple[int, ...]:
    """A sortable key for a version string (``0.3.1.dev4+gabc`` -> (0, 3, 1, 4))."""
    try:
        from packaging.version import InvalidVersion, Version
    except ImportError:  # pragma: no cover - packaging ships with pip and pytest
        return tuple(int(part) for part in re.findall(r"\d+", version))
    try:
        parsed = Version(version)
    except InvalidVersion:
        return tuple(int(part) for part in re.findall(r"\d+", version))
    dev = parsed.dev if parsed.dev is not None else 1 << 30
    return (*parsed.release, dev)


def is_newer(candidate: str, than: str | None) -> bool:
    return than is None or _version_key(candidate) > _version_key(than)


def _write_meta(connection: Connection, values: dict[str, str]) -> None:
    for key, value in values.items():
        updated = connection.execute(
            text("UPDATE store_meta SET value = :value WHERE key = :key"),
            {"key": key, "value": value},
        )
        if not updated.rowcount:
            connection.execute(
                text("INSERT INTO store_meta (key, value) VALUES (:key, :value)"),
                {"key": key, "value": value},
            )


def _take_migration_lock(connection: Connection) -> None:
    """PostgreSQL: one migrator per schema until this transaction ends. (SQLite's lock is
    the ``BEGIN IMMEDIATE`` the store's engine opens every write transaction with.)"""
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || :name))"),
            {"name": MIGRATION_LOCK},
        )


def upgrade_locked(connection: Connection, where: str) -> SchemaState:
    """Inside a write transaction: take the lock, re-read the state, upgrade if still
    needed and record who did it. Returns the state found under the lock."""
    from alembic import command
    from alembic.config import Config

    _take_migration_lock(connection)
    state = read_state(connection)
    if state.unknown:
        raise newer_store_error(where, state)
    if not state.current:
        cfg = Config()
        cfg.set_main_option("script_location", MIGRATIONS)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "heads")
        _write_meta(
            connection,
            {
                "schema_written_by": __version__,
                "schema_heads": " ".join(sorted(shipped_heads())),
            },
        )
    if is_newer(__version__, state.meta.get("newest_writer")):
        _write_meta(connection, {"newest_writer": __version__})
    return state


def ensure_schema(engine: Engine, where: str, *, read_only: bool) -> SchemaState:
    """Check the store's schema and upgrade it when it is behind (see the module doc)."""
    with engine.connect() as connection:
        connection.execution_options(drillbook_read_only=True)  # no write lock for a look
        state = read_state(connection)
        connection.rollback()
    if state.unknown:
        raise newer_store_error(where, state)
    up_to_date = state.current and not is_newer(__version__, state.meta.get("newest_writer"))
    if up_to_date:
        return state
    if read_only:
        if state.current:
            return state  # only the "newest writer" note is stale: not worth refusing for
        raise StoreError(
            f"{where}: this store needs an upgrade to this drillbook ({__version__}) but "
            "cannot be written here; run `drillbook db upgrade` where it is writable"
        )
    with engine.begin() as connection:
        return upgrade_locked(connection, where)
