"""The observer's console keeps typed lines while the store is locked, then writes them."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.storage import sqlite_file
from drillbook.storage.engine import Store
from tests.integration.store_procs import TRACEBACK, finish, start_cli


def test_lines_typed_while_the_store_is_locked_are_kept(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    runner = CliRunner()
    env = {"DRILLBOOK_LIBRARY": str(library), "COLUMNS": "200"}
    assert runner.invoke(app, ["init", str(library)]).exit_code == 0
    for args in (["exercise", "create", "agent-wrong-team-exposure-gentle"], ["exercise", "start"]):
        assert runner.invoke(app, args, env=env).exit_code == 0
    path = library / ".drillbook" / "drillbook.db"

    console = start_cli(["exercise", "run", "--by", "olga"], env, stdin=True)
    console.read_until("> ")
    queue = sqlite_file.WriterQueue(path)
    assert queue.acquire(deadline=0)  # another command holds the store
    try:
        console.write("legal was not paged\n")
        console.read_until("kept here")
        console.write("/note comms drafted while waiting\n")
        console.read_until("2 lines kept here")
    finally:
        queue.release()
    console.write("ceo asks for an update\n")
    console.write("/quit\n")
    outcome = finish(console)
    assert outcome.status == 0, outcome.stderr
    assert not TRACEBACK.search(outcome.stderr), outcome.stderr
    assert "not stored" not in outcome.stderr

    store = Store(f"sqlite:///{path}")
    try:
        with store.session() as session:
            rows = session.execute(
                text("SELECT kind, text FROM exercise_events ORDER BY at, id")
            ).all()
    finally:
        store.close()
    written = [(kind, body) for kind, body in rows if kind in ("observation", "note")]
    assert written == [
        ("observation", "legal was not paged"),
        ("note", "comms drafted while waiting"),
        ("observation", "ceo asks for an update"),
    ]
