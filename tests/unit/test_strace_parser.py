"""The strace output parser and the process-creation events built from it."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from drillbook.telemetry.process_events import RunnerProcess, build_events
from drillbook.telemetry.sensors.strace import parse_arguments, parse_c_string, parse_lines

RUNNER = RunnerProcess(100, "/usr/bin/strace", "strace -f -- sh -c x drillbook-drill-1")


def c_escape(text: str) -> str:
    """Escape as strace does: quotes, backslashes, control bytes, non-ASCII as octal."""
    out = []
    for byte in text.encode("utf-8"):
        ch = chr(byte)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif 32 <= byte < 127:
            out.append(ch)
        else:
            out.append(f"\\{byte:03o}")  # strace pads when a digit follows
    return '"' + "".join(out) + '"'


def execve_line(pid: int, ts: float, image: str, argv: list[str], result: str = "0") -> str:
    args = ", ".join(c_escape(a) for a in argv)
    return (
        f"{pid} {ts:.6f} execve({c_escape(image)}, [{args}], "
        f'["PATH=/usr/bin", "DRILLBOOK_DRILL_ID=abc"]) = {result}'
    )


@given(st.lists(st.text(max_size=40), min_size=1, max_size=6))
def test_argv_round_trips_through_strace_escaping(argv: list[str]) -> None:
    line = execve_line(7, 1700000000.5, "/bin/x", argv)
    [record] = parse_lines([line])
    assert record.parsed[1] == argv
    assert record.ok


@given(st.text(max_size=200))
def test_parser_never_crashes_on_garbage(text: str) -> None:
    parse_lines(text.splitlines())
    with contextlib.suppress(ValueError):  # the only error it may raise; lines are skipped
        parse_arguments(text)


@given(st.text(max_size=60))
def test_c_string_round_trip(text: str) -> None:
    escaped = c_escape(text)
    value, end = parse_c_string(escaped + ", 1", 0)
    assert value == text
    assert end == len(escaped)


def test_truncated_string_mark_is_consumed() -> None:
    value, end = parse_c_string('"abc"..., 2', 0)
    assert (value, end) == ("abc", 8)


TRACE = [
    execve_line(
        200, 1.0, "/usr/bin/sh", ["sh", "-c", "cd /tmp; uname -a | cat", "drillbook-drill-1"]
    ),
    '200 1.100000 chdir("/tmp") = 0',
    "200 1.200000 vfork( <unfinished ...>",
    execve_line(201, 1.210000, "/usr/bin/uname", ["uname", "-a"]).replace(
        " = 0", " <unfinished ...>"
    ),
    "200 1.220000 <... vfork resumed>) = 201",
    "201 1.230000 <... execve resumed>) = 0",
    "200 1.300000 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|SIGCHLD, "
    "child_tidptr=0x7f) = 202",
    "202 1.310000 clone3({flags=CLONE_VM|CLONE_THREAD, stack=0x1}, 88) = 203",
    execve_line(202, 1.400000, "/usr/bin/nothere", ["nothere"], "-1 ENOENT (No such file)"),
    execve_line(202, 1.500000, "./cat", ["cat"]),
    "202 1.600000 +++ exited with 0 +++",
    "--- SIGCHLD {si_signo=SIGCHLD} ---",
]


def test_events_from_a_trace() -> None:
    events = build_events(parse_lines(TRACE), runner=RUNNER, user="alice", cwd=Path("/work"))
    assert [e.Image for e in events] == ["/usr/bin/sh", "/usr/bin/uname", "/tmp/cat"]
    wrapper, uname, cat = events
    assert wrapper.is_runner
    assert not uname.is_runner
    assert not cat.is_runner
    assert wrapper.ParentProcessId == 100
    assert wrapper.ParentImage == "/usr/bin/strace"
    assert wrapper.CurrentDirectory == "/work"
    assert uname.ParentProcessId == 200
    assert uname.ParentImage == "/usr/bin/sh"
    assert "drillbook-drill-1" in (uname.ParentCommandLine or "")
    assert uname.CommandLine == "uname -a"
    assert uname.CurrentDirectory == "/tmp"
    assert uname.UtcTime == datetime.fromtimestamp(1.21, tz=UTC)
    assert uname.UtcTime.tzinfo is not None
    assert cat.ProcessId == 202
    assert cat.ParentProcessId == 200
    assert cat.User == "alice"
    assert set(wrapper.sigma()) >= {
        "Image",
        "CommandLine",
        "ParentImage",
        "ParentCommandLine",
        "ProcessId",
        "ParentProcessId",
        "User",
        "CurrentDirectory",
        "UtcTime",
    }


def test_exec_in_place_keeps_the_wrapper_as_runner_only_once() -> None:
    trace = [
        execve_line(300, 1.0, "/bin/bash", ["bash", "-c", "id", "drillbook-drill-1"]),
        execve_line(300, 1.1, "/usr/bin/id", ["id"]),
    ]
    events = build_events(parse_lines(trace), runner=RUNNER, user="u", cwd=Path("/"))
    assert [e.is_runner for e in events] == [True, False]
    assert events[1].ParentImage == "/usr/bin/strace"
