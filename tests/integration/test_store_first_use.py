"""A new store survives its first use: killed at any moment, or opened by 8 at once."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from drillbook.cli.main import app
from tests.integration.store_procs import TRACEBACK, Outcome, finish, run_cli, start_cli

ADD = ["finding", "add", "-d", "first-use gap", "-s", "low"]


@pytest.fixture
def library(tmp_path: Path, runner: CliRunner) -> Path:
    target = tmp_path / "lib"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    return target


@pytest.fixture
def new_store_url(database_url: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Each call: the URL of a store that does not exist yet (a new SQLite file, or a new
    PostgreSQL schema next to the test's own)."""
    schemas: list[str] = []
    base = database_url.split("?", 1)[0]

    def make() -> str:
        if database_url.startswith("sqlite"):
            return f"sqlite:///{tmp_path / f'store-{uuid.uuid4().hex[:8]}.db'}"
        schema = f"fu_{uuid.uuid4().hex[:12]}"
        engine = create_engine(base)
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
        schemas.append(schema)
        return f"{base}?options=-csearch_path%3D{schema}"

    yield make
    if schemas:
        engine = create_engine(base)
        for schema in schemas:  # one transaction each: a hundred at once exhaust the locks
            with engine.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def findings(url: str) -> list[str]:
    """The stored finding ids, read with a plain engine (no schema check, no upgrade)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return [
                str(r[0]) for r in connection.execute(text("SELECT id FROM findings ORDER BY id"))
            ]
    finally:
        engine.dispose()


def clean(outcome: Outcome) -> None:
    assert not TRACEBACK.search(outcome.stderr), outcome.stderr


def test_eight_processes_on_a_new_store(library: Path, new_store_url: Callable[[], str]) -> None:
    url = new_store_url()
    env = {"DRILLBOOK_LIBRARY": str(library), "DRILLBOOK_DATABASE_URL": url}
    running = [start_cli(["finding", "add", "-d", f"gap {n}", "-s", "low"], env) for n in range(8)]
    outcomes = [finish(r) for r in running]
    for outcome in outcomes:
        clean(outcome)
        assert outcome.status == 0, outcome.stderr
    assert findings(url) == [f"F-{n:03d}" for n in range(1, 9)]


@pytest.mark.slow
def test_killed_during_first_use_a_hundred_times(
    library: Path, new_store_url: Callable[[], str]
) -> None:
    env = {"DRILLBOOK_LIBRARY": str(library)}
    started = time.monotonic()
    first = run_cli(ADD, {**env, "DRILLBOOK_DATABASE_URL": new_store_url()})
    span = time.monotonic() - started
    assert first.status == 0, first.stderr
    rng = random.Random(11)
    for _ in range(100):
        url = new_store_url()
        round_env = {**env, "DRILLBOOK_DATABASE_URL": url}
        killed = run_cli(ADD, round_env, kill_after=rng.uniform(0, span))
        clean(killed)
        again = run_cli(ADD, round_env)
        clean(again)
        assert again.status == 0, again.stderr
        stored = findings(url)
        acknowledged = [o for o in (killed, again) if "F-0" in o.stdout]
        assert len(stored) >= len(acknowledged), (killed, again, stored)
        for outcome in acknowledged:
            assert outcome.stdout.split(" ", 1)[0] in stored
