"""Damage, skew and contention: one message naming the store, exit 1, the file untouched."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.storage import sqlite_file
from drillbook.storage.engine import Store
from tests.helpers import require, require_binary
from tests.integration.store_procs import TRACEBACK, Outcome, run_cli

ADD = ["finding", "add", "-d", "a gap", "-s", "low"]
LIST = ["finding", "list"]


@pytest.fixture
def library(tmp_path: Path, runner: CliRunner) -> Path:
    target = tmp_path / "lib"
    assert runner.invoke(app, ["init", str(target)]).exit_code == 0
    return target


def db_file(library: Path) -> Path:
    return library / ".drillbook" / "drillbook.db"


def env_of(library: Path, **extra: str) -> dict[str, str]:
    return {"DRILLBOOK_LIBRARY": str(library), "COLUMNS": "300", **extra}


def refused(outcome: Outcome, *needles: str) -> None:
    assert outcome.status == 1, outcome
    assert not TRACEBACK.search(outcome.stderr), outcome.stderr
    lines = [line for line in outcome.stderr.splitlines() if not line.startswith("waiting for")]
    message = " ".join(" ".join(lines).split())
    assert message.startswith("error: "), message
    for needle in needles:
        assert needle in message, message


@pytest.mark.parametrize(
    "content",
    [b"", b"this is not a database at all" * 100, sqlite_file.SQLITE_HEADER + b"\x01" * 8000],
    ids=["empty", "not-sqlite", "damaged-pages"],
)
def test_a_damaged_store_is_reported_and_left_alone(library: Path, content: bytes) -> None:
    path = db_file(library)
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    for args in (LIST, ADD):
        refused(run_cli(args, env_of(library)), str(path))
    assert path.read_bytes() == content
    assert {p.name for p in path.parent.iterdir()} <= {path.name, f"{path.name}-lock"}


def _mark_newer(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO alembic_version VALUES ('0099_future_tables')"))
        connection.execute(
            text("UPDATE store_meta SET value = '9.9.9' WHERE key = 'schema_written_by'")
        )
    engine.dispose()


def test_a_store_from_a_newer_drillbook_is_named(library: Path, database_url: str) -> None:
    url = database_url
    env = env_of(library)
    if url.startswith("sqlite"):
        url = f"sqlite:///{db_file(library)}"
    else:
        env["DRILLBOOK_DATABASE_URL"] = url
    Store(url).close()
    _mark_newer(url)
    for args in (LIST, ADD):
        refused(
            run_cli(args, env),
            "migration 0099_future_tables from drillbook 9.9.9",
            "Upgrade drillbook",
        )


OLD_HEADS = frozenset({"0002_exercise_finding", "0003_drill", "0004_detection"})


def test_an_older_store_is_upgraded_on_use(library: Path, database_url: str) -> None:
    from sqlalchemy import inspect

    from drillbook.storage.schema import covered_revisions, read_state, shipped_heads

    url, env = _old_store(library, database_url)
    engine = create_engine(url)
    # killed in the middle of the upgrade: the store stays exactly at its old version
    killed = run_cli(ADD, env, hook="kill-mid-migration")
    assert killed.status == -9, killed
    with engine.connect() as connection:
        assert read_state(connection).applied == OLD_HEADS
        columns = {c["name"] for c in inspect(connection).get_columns("findings")}
        assert "version" not in columns
    outcome = run_cli(ADD, env)
    assert outcome.status == 0, outcome.stderr
    with engine.connect() as connection:
        state = read_state(connection)
        ids = [r[0] for r in connection.execute(text("SELECT id FROM findings ORDER BY id"))]
    engine.dispose()
    assert state.current
    assert shipped_heads() <= covered_revisions(state.applied)
    assert state.meta["schema_written_by"]
    assert "F-007" in ids
    assert len(ids) == 2


def _old_store(library: Path, database_url: str) -> tuple[str, dict[str, str]]:
    """A store as drillbook 0.1.0 left it (migrations 0001 to 0004), with one finding."""
    from alembic import command
    from alembic.config import Config

    from drillbook.storage.schema import MIGRATIONS

    url = database_url
    env = env_of(library)
    if url.startswith("sqlite"):
        url = f"sqlite:///{db_file(library)}"
        db_file(library).parent.mkdir(exist_ok=True)
    else:
        env["DRILLBOOK_DATABASE_URL"] = url
    engine = create_engine(url)
    with engine.begin() as connection:  # the schema as drillbook 0.1.0 left it
        cfg = Config()
        cfg.set_main_option("script_location", MIGRATIONS)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0002_exercise_finding")
        command.upgrade(cfg, "0003_drill")
        command.upgrade(cfg, "0004_detection")
        connection.execute(
            text(
                "INSERT INTO findings (id, number, severity, description, status, source, "
                "created_at, updated_at, extra) VALUES ('F-007', 7, 'low', 'old gap', 'open', "
                "'exercise', '2026-01-01 00:00:00', '2026-01-01 00:00:00', '{}')"
            )
        )
    engine.dispose()
    return url, env


def _bwrap(library: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    """Run drillbook with the library mounted read-only (root cannot write it either)."""
    bwrap = require_binary("bwrap")
    env = {**os.environ, "DRILLBOOK_LIBRARY": str(library), "COLUMNS": "300"}
    env.pop("DRILLBOOK_DATABASE_URL", None)
    cmd = [bwrap, "--dev-bind", "/", "/", "--ro-bind", str(library), str(library)]
    cmd += ["--", sys.executable, "-m", "drillbook", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


def _as_outcome(done: subprocess.CompletedProcess[str]) -> Outcome:
    return Outcome(done.returncode, done.stdout, done.stderr)


def test_a_read_only_library_serves_reads(library: Path) -> None:
    probe = _bwrap(library, ["--version"])
    require(probe.returncode == 0, f"bwrap cannot mount read-only here: {probe.stderr}")
    # no store yet, and none can be created: reads see an empty store
    listed = _bwrap(library, LIST)
    assert listed.returncode == 0, listed.stderr
    refused(_as_outcome(_bwrap(library, ADD)), "cannot be written here", str(db_file(library)))
    assert not (library / ".drillbook").exists()
    # a store with data, now read-only: its data is shown, writes are refused, it is unchanged
    assert run_cli(ADD, env_of(library)).status == 0
    before = db_file(library).read_bytes()
    listed = _bwrap(library, LIST)
    assert listed.returncode == 0, listed.stderr
    assert "a gap" in listed.stdout
    refused(_as_outcome(_bwrap(library, ADD)), "cannot be written here")
    linted = _bwrap(library, ["lint"])  # lint records scenario revisions when it can
    assert linted.returncode == 0, linted.stdout + linted.stderr
    assert db_file(library).read_bytes() == before


@pytest.fixture
def immutable(library: Path) -> Iterator[Path]:
    chattr = shutil.which("chattr")
    require(chattr is not None, "chattr is not installed")
    assert run_cli(ADD, env_of(library)).status == 0
    path = db_file(library)
    done = subprocess.run([str(chattr), "+i", str(path)], capture_output=True, text=True)
    require(done.returncode == 0, f"cannot make a file immutable here: {done.stderr}")
    try:
        yield path
    finally:
        subprocess.run([str(chattr), "-i", str(path)], check=True)


def test_an_immutable_store_serves_reads(library: Path, immutable: Path) -> None:
    before = immutable.read_bytes()
    listed = run_cli(LIST, env_of(library))
    assert listed.status == 0, listed.stderr
    assert "a gap" in listed.stdout
    refused(run_cli(ADD, env_of(library)), "cannot be written here", str(immutable))
    assert immutable.read_bytes() == before


def test_a_held_lock_names_its_holder(library: Path) -> None:
    assert run_cli(ADD, env_of(library)).status == 0
    path = db_file(library)
    queue = sqlite_file.WriterQueue(path)
    assert queue.acquire(deadline=0)
    try:
        outcome = run_cli(ADD, env_of(library, DRILLBOOK_STORE_TIMEOUT="1"))
    finally:
        queue.release()
    refused(outcome, "locked by PID", f"{os.getpid()}", "DRILLBOOK_STORE_TIMEOUT")


def test_a_foreign_writer_is_waited_for_then_named(library: Path) -> None:
    assert run_cli(ADD, env_of(library)).status == 0
    foreign = sqlite3.connect(db_file(library), isolation_level=None)
    foreign.execute("BEGIN IMMEDIATE")
    try:
        outcome = run_cli(ADD, env_of(library, DRILLBOOK_STORE_TIMEOUT="1.5"))
    finally:
        foreign.execute("ROLLBACK")
        foreign.close()
    refused(outcome, "the store is locked by another program", "waited 1.5 s")
    assert run_cli(ADD, env_of(library)).status == 0  # and it works once released


def test_a_server_that_never_answers_is_given_up_on(library: Path) -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(silent.accept()[0])
            except OSError:
                continue

    worker = threading.Thread(target=accept, daemon=True)
    worker.start()
    port = silent.getsockname()[1]
    try:
        outcome = run_cli(
            LIST,
            env_of(
                library,
                DRILLBOOK_DATABASE_URL=f"postgresql+psycopg://drillbook@127.0.0.1:{port}/db",
                DRILLBOOK_STORE_TIMEOUT="2",
            ),
            timeout=30,
        )
    finally:
        stop.set()
        worker.join()
        for conn in accepted:
            conn.close()
        silent.close()
    refused(outcome, "cannot reach the store", f"127.0.0.1:{port}")
