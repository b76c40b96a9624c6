"""The observer's console (`drillbook exercise run`) and restart after a hard kill."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from drillbook import clock
from drillbook.cli.main import app
from drillbook.clock import FakeClock
from drillbook.domain.exercise import service
from drillbook.errors import DrillbookError
from drillbook.flows.exercise_console import handle_line
from drillbook.library.loader import load_scenario_file
from drillbook.storage.engine import Store, open_store
from tests.helpers import ROOT, SEED


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    (root / "scenarios").mkdir(parents=True)
    (root / "drillbook.yaml").write_text("organisation: Acme\n", encoding="utf-8")
    shutil.copy(SEED / "scenarios" / "data-exfil-via-mcp.yaml", root / "scenarios")
    return root


def _cli(runner: CliRunner, library: Path, *args: str, stdin: str | None = None) -> str:
    result = runner.invoke(app, ["-L", str(library), *args], input=stdin)
    assert result.exit_code == 0, result.output
    return result.output


def test_console_logs_typed_lines_and_commands(
    library: Path, runner: CliRunner, fake_clock: FakeClock
) -> None:
    _cli(
        runner,
        library,
        "exercise",
        "create",
        "scenario-2026-q2-001",
        "--role",
        "incident_commander=alice",
    )
    _cli(runner, library, "exercise", "start")
    fake_clock.advance(90)
    lines = [
        "IC reads the alert aloud",
        "/decide wake the security lead",
        "/phase",
        "/inject",
        "/inject regulator emails",
        "/bogus",
        "/status",
        "/pause",
        "/resume",
        "",
        "/assign comms_lead=eve",
        "/end",
    ]
    out = _cli(runner, library, "exercise", "run", "--by", "olga", stdin="\n".join(lines) + "\n")
    assert "unknown command /bogus" in out
    assert "Containment" in out  # the live view after a phase change
    timeline = json.loads(_cli(runner, library, "exercise", "timeline", "1", "--json"))
    logged = [(e["kind"], e["text"], e["author"]) for e in timeline[3:]]
    assert logged == [
        ("observation", "IC reads the alert aloud", "olga"),
        ("decision", "wake the security lead", "olga"),
        ("phase_started", "Containment phase", "olga"),
        ("inject", "Initial alert. IC begins triage.", "olga"),
        ("inject", "regulator emails", "olga"),
        ("status_changed", "clock paused", "olga"),
        ("status_changed", "clock resumed", "olga"),
        ("role_assigned", "eve is comms_lead", "olga"),
        ("status_changed", "exercise ended; in review", "olga"),
    ]
    assert all(e["offset"] == "T+01:30" for e in timeline[3:])


def test_console_stops_at_end_of_input(
    library: Path, runner: CliRunner, fake_clock: FakeClock
) -> None:
    _cli(runner, library, "exercise", "create", "scenario-2026-q2-001")
    _cli(runner, library, "exercise", "start")
    _cli(runner, library, "exercise", "run", stdin="one line\n")
    status = json.loads(_cli(runner, library, "exercise", "status", "--json"))
    assert status["status"] == "running"


@pytest.mark.slow
def test_killed_console_loses_nothing_and_the_clock_resumes(library: Path) -> None:
    """Start 10 minutes ago (fake clock in this process), log from a real console process,
    SIGKILL it mid-exercise, and check that a new process sees the same log and clock."""
    real_now = clock.SystemClock().now()
    with clock.use_clock(FakeClock(real_now - timedelta(minutes=10))):
        store = open_store(library)
        try:
            with store.session() as session:
                scenario = load_scenario_file(
                    library / "scenarios" / "data-exfil-via-mcp.yaml"
                ).scenario
                exercise = service.create_exercise(session, scenario=scenario)
                service.start(session, exercise)
        finally:
            store.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    console = subprocess.Popen(
        [sys.executable, "-m", "drillbook", "-L", str(library), "exercise", "run", "--by", "olga"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert console.stdin is not None
    console.stdin.write(b"first observation\n/decide quarantine the MCP server\n")
    console.stdin.flush()
    deadline = time.monotonic() + 30
    store = open_store(library)
    try:
        while True:
            with store.session() as session:
                if len(service.get_exercise(session, 1).events) >= 4:
                    break
            assert time.monotonic() < deadline, "the console logged nothing"
            time.sleep(0.1)
        console.send_signal(signal.SIGKILL)
        console.wait(timeout=10)
        assert console.returncode == -signal.SIGKILL

        status = json.loads(
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "drillbook",
                    "-L",
                    str(library),
                    "exercise",
                    "status",
                    "--json",
                ],
                capture_output=True,
                text=True,
                env=env,
                check=True,
            ).stdout
        )
        assert status["status"] == "running"
        assert 600 <= status["elapsed_seconds"] < 700
        assert status["phase"] == "detection"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "drillbook",
                "-L",
                str(library),
                "exercise",
                "decide",
                "take it offline after all",
            ],
            env=env,
            check=True,
            capture_output=True,
        )
        with store.session() as session:
            events = service.get_exercise(session, 1).events
            kinds = [(e.kind, e.text) for e in events]
    finally:
        store.close()
    assert kinds[-3:] == [
        ("observation", "first observation"),
        ("decision", "quarantine the MCP server"),
        ("decision", "take it offline after all"),
    ]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.text(max_size=60),
        st.builds(
            lambda c, r: f"/{c} {r}",
            st.sampled_from(
                [
                    "decide",
                    "note",
                    "phase",
                    "inject",
                    "assign",
                    "pause",
                    "resume",
                    "status",
                    "help",
                    "x",
                ]
            ),
            st.text(max_size=30),
        ),
    )
)
def test_any_typed_line_is_logged_or_refused_cleanly(sqlite_store: Store, line: str) -> None:
    """Whatever the observer types, the console logs it or says why not: no crash."""
    with sqlite_store.session() as session:
        if not service.list_exercises(session):
            scenario = load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario
            service.start(session, service.create_exercise(session, scenario=scenario))
    try:
        with sqlite_store.session() as session:
            exercise = service.get_exercise(session, 1)
            before = len(exercise.events)
            outcome = handle_line(session, exercise, line, "olga")
            if outcome.event is not None:
                assert len(exercise.events) > before
    except DrillbookError as exc:
        message = str(exc)
        assert message, "a refusal must say why"


@pytest.mark.slow
def test_live_view_on_a_terminal(library: Path) -> None:
    """On a real (pseudo) terminal the console is a live view; typed lines are logged."""
    import pty

    with clock.use_clock(FakeClock(clock.SystemClock().now() - timedelta(minutes=3))):
        store = open_store(library)
        try:
            with store.session() as session:
                scenario = load_scenario_file(
                    library / "scenarios" / "data-exfil-via-mcp.yaml"
                ).scenario
                service.start(session, service.create_exercise(session, scenario=scenario))
        finally:
            store.close()
    main, secondary = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "TERM": "xterm", "COLUMNS": "100"}
    console = subprocess.Popen(
        [sys.executable, "-m", "drillbook", "-L", str(library), "exercise", "run", "--by", "olga"],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=env,
        close_fds=True,
    )
    os.close(secondary)
    screen = b""
    try:
        deadline = time.monotonic() + 30

        def read_until(marker: bytes) -> None:
            nonlocal screen
            while marker not in screen:
                assert time.monotonic() < deadline, screen.decode(errors="replace")[-2000:]
                ready, _, _ = select.select([main], [], [], 0.5)
                if ready:
                    screen += os.read(main, 65536)

        read_until(b"drillbook exercise")  # the panel is drawn
        os.write(main, b"typed on a terminal\r")
        read_until(b"observation: typed on a terminal")
        os.write(main, b"/decide offline now\r/quit\r")
        console.wait(timeout=20)
    finally:
        if console.poll() is None:
            console.kill()
        os.close(main)
    assert console.returncode == 0
    store = open_store(library)
    try:
        with store.session() as session:
            texts = [(e.kind, e.text) for e in service.get_exercise(session, 1).events]
    finally:
        store.close()
    assert texts[-2:] == [("observation", "typed on a terminal"), ("decision", "offline now")]
