"""Many processes at once: no error, no loss, and histories that replay to the stored state."""

from __future__ import annotations

import itertools
import os
import random
import sys
import traceback
from pathlib import Path

import pytest
import typer
from sqlalchemy import text
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.storage.engine import Store
from tests.integration.store_procs import TRACEBACK, finish, library_env, start_cli

STATUSES = ("in_progress", "resolved", "open", "verified", "wont_do")


@pytest.fixture
def library(tmp_path: Path, runner: CliRunner) -> Path:
    target = tmp_path / "lib"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    return target


def _store_url(library: Path, database_url: str) -> str:
    if database_url.startswith("sqlite"):
        return f"sqlite:///{library / '.drillbook' / 'drillbook.db'}"
    return database_url


def test_six_processes_race_on_each_of_thirty_findings(library: Path, database_url: str) -> None:
    url = _store_url(library, database_url)
    env = library_env(library, database_url)
    runner = CliRunner()
    for n in range(30):
        result = runner.invoke(app, ["finding", "add", "-d", f"gap {n}", "-s", "low"], env=env)
        assert result.exit_code == 0, result.output
    rng = random.Random(11)
    for n in range(1, 31):
        racers = [
            start_cli(
                [
                    "finding",
                    "update",
                    f"F-{n:03d}",
                    "--status",
                    rng.choice(STATUSES),
                    "--note",
                    "race",
                ],
                env,
            )
            for _ in range(6)
        ]
        for outcome in (finish(r) for r in racers):
            assert not TRACEBACK.search(outcome.stderr), outcome.stderr
            # exit 0, or 1 with a refusal that names the current state or the moves the
            # lifecycle allows from it: never a crash
            refusals = ("already", "now", "can move to", "cannot move")
            assert outcome.status == 0 or (
                outcome.status == 1 and any(word in outcome.stderr for word in refusals)
            ), outcome.stderr
    store = Store(url)
    try:
        with store.session() as session:
            stored = dict(session.execute(text("SELECT id, status FROM findings")).all())
            rows = session.execute(
                text(
                    "SELECT f.id, e.from_status, e.to_status FROM finding_events e "
                    "JOIN findings f ON f.id = e.finding_id WHERE e.to_status IS NOT NULL "
                    "ORDER BY f.id, e.at, e.id"
                )
            ).all()
    finally:
        store.close()
    chains: dict[str, list[tuple[str | None, str]]] = {}
    for finding_id, from_status, to_status in rows:
        chains.setdefault(finding_id, []).append((from_status, to_status))
    for finding_id, status in stored.items():
        chain = chains[finding_id]
        assert chain[0] == (None, "open")
        for (_, previous), (from_status, to_status) in itertools.pairwise(chain):
            assert from_status == previous, f"{finding_id}: history broken: {chain}"
            assert from_status != to_status, f"{finding_id}: 'already' guard bypassed: {chain}"
        assert chain[-1][1] == status, f"{finding_id}: stored {status}, history says {chain}"


def _decide_many(env: dict[str, str], worker: int, count: int, errors: Path) -> None:
    """In a forked child: ``count`` decisions through the CLI's code path, in one process."""
    os.environ.update(env)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    sys.stderr = open(errors / f"worker-{worker}.txt", "w")  # noqa: SIM115
    command = typer.main.get_command(app)  # built once: Typer's build is the slow part
    failures = 0
    for n in range(count):
        try:
            code = command.main(
                ["exercise", "decide", f"w{worker}-d{n}"],
                prog_name="drillbook",
                standalone_mode=False,
            )
        except BaseException:
            traceback.print_exc()
            code = 1
        failures += 1 if code not in (0, None) else 0
    sys.stderr.flush()
    os._exit(min(failures, 100))


@pytest.mark.slow
def test_decisions_from_twenty_processes(library: Path, database_url: str, tmp_path: Path) -> None:
    url = _store_url(library, database_url)
    env = library_env(library, database_url)
    runner = CliRunner()
    scenario = "agent-wrong-team-exposure-gentle"
    for args in (["exercise", "create", scenario], ["exercise", "start"]):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
    # 20 x 25 here keeps the suite inside its budget; with each = 100 (2,000 decisions) it
    # passes the same way (measured: 173 s on SQLite, 308 s on PostgreSQL, two busy cores).
    workers, each = 20, 25
    pids = []
    for worker in range(workers):
        pid = os.fork()
        if pid == 0:
            _decide_many(env, worker, each, tmp_path)
        pids.append(pid)
    failed = [os.WEXITSTATUS(os.waitpid(pid, 0)[1]) for pid in pids]
    errors = "".join(p.read_text() for p in sorted(tmp_path.glob("worker-*.txt")))
    problems = [line for line in errors.splitlines() if not line.startswith("waiting for")]
    assert failed == [0] * workers, problems
    assert problems == []
    store = Store(url)
    try:
        with store.session() as session:
            texts = list(
                session.scalars(text("SELECT text FROM exercise_events WHERE kind = 'decision'"))
            )
    finally:
        store.close()
    assert sorted(texts) == sorted(f"w{w}-d{n}" for w in range(workers) for n in range(each))
