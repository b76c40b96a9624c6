"""Acknowledged means stored: every writing command, killed at its acknowledgement.

Two kills per command, on SQLite and PostgreSQL:

* at the acknowledgement: the child is killed (SIGKILL) the moment anything at all
  appears on its standard output; whatever it said must already be in the store;
* just before the commit (a hook in the child): the write is lost, so nothing may have
  been printed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.storage.engine import Store
from tests.integration.store_procs import TRACEBACK, library_env, run_cli

SCENARIO = "agent-wrong-team-exposure-gentle"

# Run in order, each building on the ones before. No exercise ids: PostgreSQL's sequences
# are not rolled back, so the killed `create` already used EX-1; the default (the only
# exercise) is what a facilitator types anyway.
COMMANDS: list[list[str]] = [
    ["exercise", "create", SCENARIO, "--role", "observer=olga"],
    ["exercise", "assign", "incident_commander=ines"],
    ["exercise", "start"],
    ["exercise", "decide", "isolate the agent"],
    ["exercise", "note", "comms drafted"],
    ["exercise", "observe", "nobody paged legal"],
    ["exercise", "inject"],
    ["exercise", "phase"],
    ["exercise", "pause"],
    ["exercise", "resume"],
    ["finding", "add", "-d", "legal was not paged", "-s", "high"],
    ["finding", "update", "F-001", "--status", "in_progress"],
    ["finding", "update", "F-001", "--owner", "legal"],
    ["finding", "close", "F-001", "--note", "runbook updated"],
    ["exercise", "end"],
]

SNAPSHOT = (
    "SELECT (SELECT count(*) FROM exercises), (SELECT count(*) FROM exercise_events),"
    " (SELECT count(*) FROM findings), (SELECT count(*) FROM finding_events),"
    " (SELECT coalesce(max(version), 0) FROM exercises),"
    " (SELECT coalesce(max(version), 0) FROM findings)"
)


def snapshot(url: str) -> tuple[int, ...]:
    store = Store(url)
    try:
        with store.session() as session:
            return tuple(int(v) for v in session.execute(text(SNAPSHOT)).one())
    finally:
        store.close()


@pytest.fixture
def library(tmp_path: Path, runner: CliRunner) -> Path:
    target = tmp_path / "lib"
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 0, result.output
    return target


def test_every_acknowledged_write_is_stored(library: Path, database_url: str) -> None:
    url = database_url
    if url.startswith("sqlite"):
        url = f"sqlite:///{library / '.drillbook' / 'drillbook.db'}"
    env = library_env(library, database_url)
    Store(url).close()  # created up front, so both kills below hit the command itself
    for args in COMMANDS:
        before = snapshot(url)
        lost = run_cli(args, env, hook="kill-before-commit")
        assert lost.status == -9, (args, lost)
        assert lost.stdout == "", f"{args}: acknowledged an unstored write: {lost.stdout!r}"
        assert snapshot(url) == before, f"{args}: the killed write was stored anyway"

        acked = run_cli(args, env, kill_when=lambda out: bool(out.strip()))
        assert acked.stdout.strip(), (args, acked)
        assert not TRACEBACK.search(acked.stderr), acked.stderr
        after = snapshot(url)
        assert after != before, f"{args}: acknowledged {acked.stdout!r} but nothing is stored"
