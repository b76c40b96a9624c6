"""``drillbook db``: look at the store, upgrade it, back it up.

A store is upgraded on first use anyway; these commands are for a team that wants to do
it on purpose (before everyone moves to a new drillbook), to see why a store is refused,
and to keep a copy before an upgrade.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from drillbook.cli.app import db_app
from drillbook.cli.context import state
from drillbook.cli.output import console, print_json

if TYPE_CHECKING:
    from drillbook.storage.engine import Store


JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _open(ctx: typer.Context, *, migrate: bool) -> Store:
    from drillbook.config import database_url
    from drillbook.storage.engine import Store

    return Store(database_url(state(ctx).library_root(required=False)), run_migrations=migrate)


@db_app.command("check")
def check(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Say where the store is, which migrations it has, who wrote it, and whether it is
    healthy; exit 1 when it needs an upgrade, is damaged or is from a newer drillbook."""
    from drillbook import __version__
    from drillbook.storage import schema, sqlite_file

    store = _open(ctx, migrate=False)
    try:
        if store.file is not None and not store.file.exists():
            report: dict[str, Any] = {"store": store.where, "state": "not created yet"}
            verdict = 0
        else:
            found = store.guarded(lambda: _look(store))
            applied, integrity, meta = found
            state_ = schema.SchemaState(frozenset(applied), meta)
            if state_.unknown:
                status = "newer than this drillbook: upgrade drillbook"
            elif state_.current:
                status = "current"
            else:
                status = "behind: run `drillbook db upgrade` (or use it: it upgrades on use)"
            report = {
                "store": store.where,
                "state": status,
                "read_only": store.read_only,
                "migrations": sorted(applied),
                "shipped_migrations": sorted(schema.shipped_heads()),
                "schema_written_by": meta.get("schema_written_by"),
                "newest_writer": meta.get("newest_writer"),
                "this_drillbook": __version__,
                "integrity": integrity,
            }
            verdict = 0 if state_.current and integrity == "ok" else 1
            if integrity != "ok" and store.file is not None:
                report["state"] = str(sqlite_file.damaged(store.file, integrity))
    finally:
        store.close()
    if as_json:
        print_json(report)
    else:
        for key, value in report.items():
            shown = ", ".join(value) if isinstance(value, list) else value
            console.print(f"{key.replace('_', ' ')}: {shown}", markup=False)
    if verdict:
        raise typer.Exit(verdict)


def _look(store: Store) -> tuple[list[str], str, dict[str, str]]:
    from drillbook.storage.schema import read_state

    with store.engine.connect() as connection:
        connection.execution_options(drillbook_read_only=True)
        found = read_state(connection)
        integrity = "ok"
        if connection.dialect.name == "sqlite":
            rows = connection.exec_driver_sql("PRAGMA quick_check").all()
            integrity = "; ".join(str(r[0]) for r in rows) or "ok"
        connection.rollback()
    return sorted(found.applied), integrity, found.meta


@db_app.command("upgrade")
def upgrade(ctx: typer.Context) -> None:
    """Bring the store to this drillbook's schema now (one process does it, under a lock;
    the others wait). A store from a newer drillbook is refused and left as it is."""
    from drillbook import __version__
    from drillbook.storage import schema

    store = _open(ctx, migrate=False)
    try:
        if store.file is not None and not store.file.exists():
            store.close()
            store = _open(ctx, migrate=True)
            before: frozenset[str] = frozenset()
        else:
            before = store.guarded(lambda: frozenset(_look(store)[0]))
            store.guarded(
                lambda: schema.ensure_schema(store.engine, store.where, read_only=store.read_only)
            )
    finally:
        store.close()
    after = sorted(schema.shipped_heads())
    if before == frozenset(after):
        console.print(f"{store.where}: already at this drillbook's schema ({__version__})")
    else:
        console.print(
            f"{store.where}: upgraded to drillbook {__version__} (migrations {', '.join(after)})",
            markup=False,
        )


@db_app.command("backup")
def backup(
    ctx: typer.Context,
    target: Annotated[Path, typer.Argument(help="File to write the copy to (must not exist).")],
) -> None:
    """Copy an SQLite store consistently while others may be writing (SQLite's online
    backup). For PostgreSQL it says the pg_dump command to use."""
    from drillbook.config import database_url
    from drillbook.errors import ConfigError
    from drillbook.storage import sqlite_file
    from drillbook.storage.engine import redact

    url = database_url(state(ctx).library_root(required=False))
    source = sqlite_file.sqlite_path(url)
    if source is None:
        raise ConfigError(
            f"the store is PostgreSQL ({redact(url)}): back it up with the server's own tool, "
            "e.g. `pg_dump --format=custom --file=drillbook.dump DBNAME` (add --schema=NAME "
            "when drillbook uses its own schema); restore with pg_restore"
        )
    if not source.exists():
        raise ConfigError(f"{source}: there is no store yet, so nothing to back up")
    sqlite_file.backup(source, target)
    console.print(f"backed up {source} to {target}", markup=False)
