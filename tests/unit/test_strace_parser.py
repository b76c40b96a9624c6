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
    execve_line(200, 1.0, "/usr/bin/sh", ["sh", "-c", "cd /tmp; uname -a | cat"]),
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
    assert not wrapper.is_runner  # the technique's own shell is the technique's process
    assert wrapper.CommandLine.endswith("uname -a | cat")  # no marker appended
    assert not uname.is_runner
    assert not cat.is_runner
    assert wrapper.ParentProcessId == 100
    assert wrapper.ParentImage == "/usr/bin/strace"
    assert wrapper.CurrentDirectory == "/work"
    assert uname.ParentProcessId == 200
    assert uname.ParentImage == "/usr/bin/sh"
    assert (uname.ParentCommandLine or "").endswith("uname -a | cat")
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


def test_exec_in_place_stays_the_techniques() -> None:
    trace = [
        execve_line(300, 1.0, "/bin/bash", ["bash", "-c", "exec id"]),
        execve_line(300, 1.1, "/usr/bin/id", ["id"]),
    ]
    events = build_events(
        parse_lines(trace),
        runner=RUNNER,
        user="u",
        cwd=Path("/"),
        technique_argv=["bash", "-c", "exec id"],
    )
    assert [e.is_runner for e in events] == [False, False]
    assert events[1].ParentImage == "/usr/bin/strace"


def test_attribution_follows_the_process_tree_not_the_text() -> None:
    """The sandbox and its supervisor are the runner's; the first process that executed
    the technique's own argv, and everything below it, are the technique's, even a
    process whose command line repeats the technique's (it is below the root anyway)."""
    wanted = ["sh", "-c", "echo IyEvYmluL2Jhc2gK | base64 -d"]
    trace = [
        execve_line(10, 1.0, "/usr/bin/bwrap", ["bwrap", "--", "sh", "-c", "SUP", *wanted]),
        "10 1.01 clone(child_stack=NULL, flags=SIGCHLD) = 1 /* 11 in strace's PID NS */",
        execve_line(11, 1.1, "/usr/bin/sh", ["sh", "-c", "SUP", "drillbook-sandbox", *wanted]),
        "11 1.2 clone(child_stack=NULL, flags=SIGCHLD) = 2 /* 12 in strace's PID NS */",
        execve_line(12, 1.3, "/usr/bin/sh", wanted),
        "12 1.4 clone(child_stack=NULL, flags=SIGCHLD) = 3 /* 13 in strace's PID NS */",
        execve_line(13, 1.5, "/usr/bin/base64", ["base64", "-d"]),
    ]
    events = build_events(
        parse_lines(trace), runner=RUNNER, user="u", cwd=Path("/"), technique_argv=wanted
    )
    assert [(e.ProcessId, e.is_runner) for e in events] == [
        (10, True),
        (11, True),
        (12, False),
        (13, False),
    ]
    shell = events[2]
    assert shell.CommandLine == "sh -c echo IyEvYmluL2Jhc2gK | base64 -d"
    assert shell.ParentProcessId == 11
    assert events[3].ParentProcessId == 12
