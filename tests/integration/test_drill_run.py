"""Drills for real on this machine: shared atomics, refusals, timeouts, crashes, aborts.

The shared T1070.003 and T1222.002 tests (history deletion, chmod) run inside the sandbox
aimed at files of this test's folder, which is not writable to them: they fail and the
files are unchanged. T1059.004 test 1 (pings a public address) is never run: the plan
declares ``network: true`` for it, so the default profile refuses it before anything
starts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.domain.drill import service
from drillbook.domain.drill.models import JournalEntry
from drillbook.flows.drill_run import run_drill
from drillbook.storage.engine import Store
from drillbook.telemetry.sensors import strace
from tests.helpers import ROOT, require_binary, shared_data
from tests.sandbox_helpers import host_folder


def _plan(tmp_path: Path, body: str, name: str = "plan.yaml") -> Path:
    """Write a plan; its techniques may change ``tmp_path`` (a ``writable:`` path), which
    is where the tests' cleanups leave their evidence."""
    if "writable:" not in body:
        if "safety: {" in body:
            body = body.replace("safety: {", f"safety: {{writable: [{tmp_path}], ", 1)
        elif "\nsafety:" not in body:
            body = body.replace(
                "\ntechniques:", f"\nsafety: {{writable: [{tmp_path}]}}\ntechniques:", 1
            )
    path = tmp_path / name
    path.write_text(body)
    return path


RULE = "rules/linux/process_creation/proc_creation_lnx_system_info_discovery.yml"


def _shared_plan(tmp_path: Path, host: Path | None = None) -> tuple[Path, Path, Path]:
    """T1082-3 writes its scratch file where the atomic says (/tmp, no writable path
    needed), T1087.001-1 into a ``writable:`` folder; the history file and the chmod
    target lie outside anything writable."""
    out1 = Path("/tmp/T1082.txt")
    shared = tmp_path / "shared"
    shared.mkdir()
    out2 = shared / "T1087.001.txt"
    host = host or tmp_path
    history = host / "bash_history"
    history.write_text("echo keep me\n")
    victim = host / "victim"
    victim.write_text("x")
    victim.chmod(0o600)
    plan = _plan(
        tmp_path,
        f"""\
name: linux-discovery
target: {{kind: local}}
safety:
  destructive_actions_allowed: false
  blast_radius: this test's temporary folder
  abort_conditions: ["drill duration exceeds 5 minutes"]
  technique_timeout: 30s
  writable: [{shared}]
techniques:
  - atomic: T1082
    test: 3
    checks: [{{file_exists: {out1}}}, {{stdout_contains: "Linux"}}]
    expected_detection:
      - sigma_rule: {shared_data() / "sigma" / RULE}
        expected_severity: low
  - atomic: T1087.001
    test: Enumerate all accounts (Local)
    inputs: {{output_file: {out2}}}
    checks: [{{stdout_contains: "root:"}}, {{file_exists: {out2}}}]
  - atomic: T1059.004
    test: 1
    network: true
  - atomic: T1070.003
    test: 1
    inputs: {{history_path: {history}}}
  - atomic: T1222.002
    test: 1
    inputs: {{file_or_folder: {victim}}}
""",
    )
    return plan, out1, out2


def _running(needle: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if needle in cmdline:
                found.append(int(entry.name))
    return found


@pytest.mark.strace
def test_shared_atomics_run_clean_up_and_refuse(
    store: Store, tmp_path: Path, runner: CliRunner
) -> None:
    require_binary("strace")
    atomics = shared_data() / "atomic-red-team" / "atomics"
    with host_folder() as host:
        plan, _out1, out2 = _shared_plan(tmp_path, host)
        run_id = run_drill(store, plan, atomics=atomics)
        assert (host / "bash_history").read_text() == "echo keep me\n"
        assert (host / "victim").stat().st_mode & 0o777 == 0o600
    with store.session() as session:
        run = service.get_run(session, run_id)
        assert run.status == "completed"
        by_id = {t.technique: t for t in run.technique_runs}
        for key in ("T1082-3", "T1087.001-1"):
            tech = by_id[key]
            assert tech.status == "succeeded", (tech.reason, tech.stderr)
            assert tech.ran
            assert tech.exit_code == 0
            assert not tech.timed_out
            assert all(c["passed"] for c in tech.checks)
            assert tech.cleanup_outcome == "done"
            assert tech.telemetry_captured
            assert tech.pid
            assert tech.started_at
            assert tech.ended_at
        assert by_id["T1082-3"].expected_detections[0]["expected_severity"] == "low"
        assert "root:" in by_id["T1087.001-1"].stdout
        refused = by_id["T1059.004-1"]
        assert refused.status == "refused"
        assert "network: true" in (refused.reason or "")
        assert refused.started_at is None
        assert refused.pid is None
        for key in ("T1070.003-1", "T1222.002-1"):
            tech = by_id[key]
            assert tech.status == "failed", tech.stdout
            assert "Read-only file system" in tech.stderr
            assert "bubblewrap" in tech.details["sandbox"]
        events = service.process_events(session, run_id)
        everything = service.process_events(session, run_id, include_runner=True)
    assert not out2.exists()  # cleaned up through the writable path
    images = {e["Image"] for e in events}
    assert "/usr/bin/uname" in images or "/bin/uname" in images
    assert any(e["CommandLine"] == "cat /etc/passwd" for e in events)
    assert all(not e["is_runner"] for e in events)
    assert not any("drillbook-drill-" in e["CommandLine"] for e in everything)
    wrappers = [e for e in everything if e["is_runner"]]
    assert {Path(e["Image"]).name for e in wrappers} <= {"bwrap", "sh", "dash"}
    shells = [e for e in events if e["CommandLine"].startswith("sh -c uname -a >> /tmp/T1082")]
    assert len(shells) == 1  # the atomic's own command is the technique's process
    uname = next(e for e in events if e["Image"].endswith("/uname"))
    assert uname["ParentCommandLine"] == shells[0]["CommandLine"]
    assert uname["UtcTime"].tzinfo is not None
    assert uname["technique"] == "T1082-3"
    assert run.started_at <= uname["UtcTime"] <= (run.ended_at or uname["UtcTime"])


def test_cli_run_show_events_export(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    atomics = shared_data() / "atomic-red-team" / "atomics"
    monkeypatch.setenv("DRILLBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.chdir(tmp_path)
    plan, out1, _ = _shared_plan(tmp_path)
    done = runner.invoke(app, ["drill", "run", str(plan), "--atomics", str(atomics), "--json"])
    assert done.exit_code == 0, done.output
    record = json.loads(done.stdout)
    run_id = record["id"]
    assert [t["status"] for t in record["techniques"]] == [
        "succeeded",
        "succeeded",
        "refused",
        "failed",
        "failed",
    ]
    assert not out1.exists()

    shown = runner.invoke(app, ["drill", "show", run_id[:10]])
    assert shown.exit_code == 0
    assert "T1082-3" in shown.stdout
    listed = runner.invoke(app, ["drill", "list", "--json"])
    assert json.loads(listed.stdout)[0]["id"] == run_id

    if strace.probe()[0]:
        lines = runner.invoke(app, ["drill", "events", run_id, "--jsonl"]).stdout.splitlines()
        first = json.loads(lines[0])
        assert {
            "Image",
            "CommandLine",
            "ParentImage",
            "ParentCommandLine",
            "ProcessId",
            "ParentProcessId",
            "User",
            "CurrentDirectory",
            "UtcTime",
            "drill_run_id",
            "technique_run_id",
            "technique",
        } <= set(first)
        assert first["UtcTime"].endswith("Z")
        assert first["drill_run_id"] == run_id

    exported = runner.invoke(app, ["drill", "export", run_id, "--attire"])
    attire = json.loads(exported.stdout)
    assert attire["attire-version"] == "1.1"
    assert attire["execution-data"]["execution-id"] == run_id
    assert attire["execution-data"]["execution-category"]["abbreviation"] == "ART"
    procedures = attire["procedures"]
    assert [p["mitre-technique-id"] for p in procedures] == [
        "T1082",
        "T1087.001",
        "T1070.003",
        "T1222.002",
    ]
    assert procedures[0]["procedure-id"] == {
        "type": "guid",
        "id": "cccb070c-df86-4216-a5bc-9fb60c74e27c",
    }
    step = procedures[0]["steps"][0]
    assert step["executor"] == "SH"
    assert step["time-start"].endswith("Z")
    assert step["output"][0]["level"] == "STDOUT"
    assert procedures[0]["steps"][1]["command"].startswith("rm ")
    refused = [t for t in attire["drillbook"]["techniques"] if t["status"] == "refused"]
    assert len(refused) == 1

    validated = runner.invoke(
        app, ["drill", "validate", str(plan), "--atomics", str(atomics), "--json"]
    )
    decisions = [r["decision"] for r in json.loads(validated.stdout)]
    assert decisions == ["will run", "will run", "refused", "will run", "will run"]


def test_hanging_technique_is_killed_with_its_tree_and_cleaned_up(
    sqlite_store: Store, tmp_path: Path
) -> None:
    cleaned = tmp_path / "cleaned"
    plan = _plan(
        tmp_path,
        f"""\
name: hang
techniques:
  - name: T1059.004 - hangs
    test: |
      (sleep 41.0625 &)
      setsid sleep 41.125 &
      sleep 41.25
    timeout: 1s
    cleanup: echo cleaned > {cleaned}
""",
    )
    started = time.monotonic()
    run_id = run_drill(sqlite_store, plan)
    assert time.monotonic() - started < 15
    with sqlite_store.session() as session:
        [tech] = service.get_run(session, run_id).technique_runs
        assert tech.status == "timeout"
        assert tech.timed_out
        assert tech.exit_code is None
        assert "killed with its process tree" in (tech.reason or "")
        assert tech.cleanup_outcome == "done"
    assert cleaned.read_text().strip() == "cleaned"
    time.sleep(0.2)
    assert _running("sleep 41.") == []


def test_max_duration_stops_the_drill(sqlite_store: Store, tmp_path: Path) -> None:
    plan = _plan(
        tmp_path,
        """\
name: long
safety: {max_duration: 1s, technique_timeout: 30s}
techniques:
  - {name: slow, test: sleep 30.5, cleanup: 'true'}
  - {name: never, test: 'true'}
""",
    )
    run_id = run_drill(sqlite_store, plan, use_sensor=False)
    with sqlite_store.session() as session:
        run = service.get_run(session, run_id)
        assert run.status == "aborted"
        assert "duration" in (run.abort_reason or "")
        assert [t.status for t in run.technique_runs] == ["timeout", "aborted"]
        assert run.technique_runs[0].cleanup_outcome == "done"


def test_without_the_sensor_the_drill_still_runs(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(strace, "probe", lambda: (False, "strace is not installed"))
    plan = _plan(tmp_path, "name: x\ntechniques:\n  - {name: hi, test: 'echo hi'}\n")
    run_id = run_drill(sqlite_store, plan)
    with sqlite_store.session() as session:
        [tech] = service.get_run(session, run_id).technique_runs
        assert tech.status == "succeeded"
        assert tech.stdout == "hi\n"
        assert tech.telemetry_captured is False
        assert tech.telemetry_note == "telemetry not captured: strace is not installed"
        assert service.process_events(session, run_id, include_runner=True) == []


def _spawn_cli(args: list[str], db: str, cwd: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "DRILLBOOK_DATABASE_URL": db,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "drillbook", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait_for_detonation(store: Store, timeout: float = 20.0) -> JournalEntry:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with store.session() as session:
            for entry in session.query(JournalEntry).filter_by(step="detonate").all():
                if "pgid" in entry.payload:
                    return entry
        time.sleep(0.1)
    raise AssertionError("the detonation never started")


def _hang_plan(tmp_path: Path, cleaned: Path) -> Path:
    return _plan(
        tmp_path,
        f"""\
name: hang
techniques:
  - name: hangs
    test: sleep 47.375
    timeout: 60s
    cleanup: echo cleaned > {cleaned}
  - {{name: after, test: 'true'}}
""",
    )


@pytest.mark.slow
def test_sigkilled_runner_leaves_a_journal_that_cleanup_pending_settles(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    cleaned = tmp_path / "cleaned"
    store = Store(db)
    proc = _spawn_cli(["drill", "run", str(_hang_plan(tmp_path, cleaned))], db, tmp_path)
    try:
        entry = _wait_for_detonation(store)
        assert _running("sleep 47.375")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert not cleaned.exists()
    assert _running("sleep 47.375")  # its own process group outlived the runner

    monkeypatch.setenv("DRILLBOOK_DATABASE_URL", db)
    monkeypatch.chdir(tmp_path)
    done = runner.invoke(app, ["drill", "cleanup", "--pending"])
    assert done.exit_code == 0, done.output
    assert cleaned.read_text().strip() == "cleaned"
    time.sleep(0.2)
    assert _running("sleep 47.375") == []
    with store.session() as session:
        run = service.get_run(session, entry.drill_run_id)
        assert run.status == "crashed"
        assert [t.status for t in run.technique_runs] == ["aborted", "aborted"]
        assert run.technique_runs[0].cleanup_outcome == "done"
    again = runner.invoke(app, ["drill", "cleanup", "--pending"])
    assert "no cleanups owed" in again.stdout
    store.close()


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_operator_abort_kills_and_cleans_up(tmp_path: Path, signum: int) -> None:
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    cleaned = tmp_path / "cleaned"
    store = Store(db)
    proc = _spawn_cli(
        ["drill", "run", str(_hang_plan(tmp_path, cleaned)), "--no-sensor"], db, tmp_path
    )
    try:
        entry = _wait_for_detonation(store)
        proc.send_signal(signum)
        proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 1, proc.stderr.read() if proc.stderr else ""
    assert cleaned.read_text().strip() == "cleaned"
    assert _running("sleep 47.375") == []
    with store.session() as session:
        run = service.get_run(session, entry.drill_run_id)
        assert run.status == "aborted"
        assert signal.Signals(signum).name in (run.abort_reason or "")
        assert [t.status for t in run.technique_runs] == ["aborted", "aborted"]
        assert run.technique_runs[0].cleanup_outcome == "done"
    store.close()


def test_an_unexpected_error_still_cleans_up_and_aborts_the_run(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drillbook.executors import journal
    from drillbook.flows import drill_run

    def broken(*_args: object) -> list[object]:
        raise RuntimeError("postgresql://drill:s3cret@db/prod")

    monkeypatch.setattr(drill_run, "evaluate_checks", broken)
    cleaned = tmp_path / "cleaned"
    plan = _plan(
        tmp_path,
        f"""\
name: broken
techniques:
  - {{name: first, test: 'true', cleanup: 'echo cleaned > {cleaned}'}}
  - {{name: second, test: 'true'}}
""",
    )
    with pytest.raises(RuntimeError):
        run_drill(sqlite_store, plan, use_sensor=False)
    assert cleaned.read_text().strip() == "cleaned"
    assert journal.owed_cleanups(sqlite_store) == []
    with sqlite_store.session() as session:
        [run] = service.list_runs(session)
        assert run.status == "aborted"
        assert run.abort_reason == "stopped by an error: RuntimeError"
        assert [t.status for t in run.technique_runs] == ["aborted", "aborted"]
        assert run.technique_runs[0].cleanup_outcome == "done"


@pytest.mark.parametrize("use_sensor", [False, True])
def test_a_process_that_left_the_group_and_the_tree_is_killed_too(
    sqlite_store: Store, tmp_path: Path, use_sensor: bool
) -> None:
    needle = f"sleep 43.{int(use_sensor) + 1}25"
    plan = _plan(
        tmp_path,
        "name: escape\ntechniques:\n"
        f"  - {{name: escapes, test: '(setsid {needle} &); sleep 0.3', timeout: 10s}}\n",
    )
    run_id = run_drill(sqlite_store, plan, use_sensor=use_sensor)
    with sqlite_store.session() as session:
        [tech] = service.get_run(session, run_id).technique_runs
        # the PID namespace ends with the technique's shell: no stall, even under strace
        assert tech.status == "succeeded"
        assert "left 1 process(es) running (sleep)" in (tech.reason or "")
        assert (tech.ended_at - tech.started_at).total_seconds() < 5  # not its 10 s timeout
    time.sleep(0.2)
    assert _running(needle) == []
