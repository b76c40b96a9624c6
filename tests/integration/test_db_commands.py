"""``drillbook db check|upgrade|backup`` (the group is wired by the lead in cli/main.py;
these tests call it directly, with the same per-run state the root callback makes)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from drillbook.cli.context import CliState
from drillbook.cli.db import db_app
from drillbook.cli.main import app
from drillbook.storage.engine import Store
from drillbook.storage.schema import covered_revisions, shipped_heads


@pytest.fixture
def library(tmp_path: Path, runner: CliRunner) -> Path:
    target = tmp_path / "lib"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    return target


def db(runner: CliRunner, library: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(db_app, list(args), obj=CliState(library_option=library))
    return result.exit_code, result.output


def test_check_upgrade_and_backup(runner: CliRunner, library: Path, tmp_path: Path) -> None:
    code, out = db(runner, library, "check", "--json")
    assert code == 0
    assert json.loads(out)["state"] == "not created yet"
    assert not (library / ".drillbook" / "drillbook.db").exists()

    code, out = db(runner, library, "upgrade")
    assert code == 0, out
    code, out = db(runner, library, "check", "--json")
    report = json.loads(out)
    assert code == 0, out
    assert report["state"] == "current"
    assert report["integrity"] == "ok"
    # the version table holds the applied heads (a revision another depends on is dropped)
    assert shipped_heads() <= covered_revisions(frozenset(report["migrations"]))
    assert report["schema_written_by"] == report["this_drillbook"]

    assert runner.invoke(app, ["-L", str(library), "finding", "add", "-d", "x", "-s", "low"])
    copy = tmp_path / "copy.db"
    code, out = db(runner, library, "backup", str(copy))
    assert code == 0, out
    rows = sqlite3.connect(copy).execute("SELECT id FROM findings").fetchall()
    assert rows == [("F-001",)]
    code, out = db(runner, library, "backup", str(copy))
    assert code == 1
    assert "already exists" in out


def test_check_reports_a_store_that_is_behind(
    runner: CliRunner, library: Path, tmp_path: Path
) -> None:
    url = f"sqlite:///{library / '.drillbook' / 'drillbook.db'}"
    Store(url).close()
    engine = create_engine(url)
    with engine.begin() as connection:
        # back to what drillbook 0.1.0 made: no 0011 migrations
        connection.execute(text("DELETE FROM alembic_version WHERE version_num LIKE '0011_%'"))
        connection.execute(text("DROP TABLE store_meta"))
        for table in ("exercises", "findings", "drill_runs"):
            connection.execute(text(f"ALTER TABLE {table} DROP COLUMN version"))
        # (their parents, 0001/0002/0003, stay recorded through the later migrations that
        # descend from them, so the version table is what an older drillbook left)
    engine.dispose()
    code, out = db(runner, library, "check")
    assert code == 1
    assert "behind" in out
    code, out = db(runner, library, "upgrade")  # store_meta is created again by 0011
    assert code == 0, out
    assert "upgraded" in out


def test_backup_of_postgres_gives_the_pg_dump_advice(
    runner: CliRunner, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRILLBOOK_DATABASE_URL", "postgresql+psycopg://u:secret@db.example/x")
    code, out = db(runner, library, "backup", "out.dump")
    assert code == 1
    assert "pg_dump" in out
    assert "secret" not in out
