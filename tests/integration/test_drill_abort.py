"""``drillbook drill abort`` from another terminal stops a running drill."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.domain.drill import service
from drillbook.domain.drill.models import JournalEntry
from drillbook.storage.engine import Store
from tests.helpers import ROOT


def _wait_for_detonation(store: Store, timeout: float = 30.0) -> JournalEntry:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store.session() as session:
            for entry in session.query(JournalEntry).filter_by(step="detonate").all():
                if "pgid" in entry.payload:
                    return entry
        time.sleep(0.1)
    raise AssertionError("the detonation never started")


def _running(needle: str) -> bool:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if needle in (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode():
                    return True
            except OSError:
                continue
    return False


@pytest.mark.slow
def test_abort_from_another_terminal_kills_cleans_up_and_names_who(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    cleaned = tmp_path / "cleaned"
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        f"name: hang\nsafety: {{writable: [{tmp_path}]}}\ntechniques:\n"
        "  - name: hangs\n    test: sleep 53.625\n    timeout: 60s\n"
        f"    cleanup: echo cleaned > {cleaned}\n"
        "  - {name: after, test: 'true'}\n"
    )
    env = {
        **os.environ,
        "DRILLBOOK_DATABASE_URL": db,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "drillbook", "drill", "run", str(plan)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    store = Store(db)
    try:
        entry = _wait_for_detonation(store)
        monkeypatch.setenv("DRILLBOOK_DATABASE_URL", db)
        monkeypatch.chdir(tmp_path)
        pulled = runner.invoke(app, ["drill", "abort", "--by", "alice", "--why", "pager fired"])
        assert pulled.exit_code == 0, pulled.output
        assert entry.drill_run_id in pulled.stdout
        started = time.monotonic()
        proc.wait(timeout=20)
        assert time.monotonic() - started < 10
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1
    assert cleaned.read_text().strip() == "cleaned"
    assert not _running("sleep 53.625")
    with store.session() as session:
        run = service.get_run(session, entry.drill_run_id)
        assert run.status == "aborted"
        assert run.abort_reason == "aborted by alice with `drill abort`: pager fired"
        assert [t.status for t in run.technique_runs] == ["aborted", "aborted"]
        assert run.technique_runs[0].cleanup_outcome == "done"
    again = runner.invoke(app, ["drill", "abort", entry.drill_run_id])
    assert again.exit_code != 0
    assert "is not running (it is aborted)" in again.output
    store.close()


def test_abort_without_a_running_drill_says_so(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRILLBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.chdir(tmp_path)
    Store(f"sqlite:///{tmp_path / 'db.sqlite'}").close()
    done = runner.invoke(app, ["drill", "abort"])
    assert done.exit_code != 0
    assert "no drill is running" in done.output
    assert "Traceback" not in done.output
