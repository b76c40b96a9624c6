"""File, network and auditd-shaped events from strace traces: SigmaHQ's auditd,
file_event and network_connection rules drilled with no SIEM."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drillbook.detection.eventstore import Scope
from drillbook.detection.local import LocalSigmaBackend
from drillbook.detection.sigma_sqlite import compile_text, rule_files
from drillbook.telemetry.sensors.strace import command, parse_file, parse_lines
from drillbook.telemetry.strace_events import TRACED_SYSCALLS, technique_scope, trace_events
from tests.helpers import FILES, require, require_binary, shared_data

TRACE = FILES / "detection" / "strace-t1201.txt"
PASSWORD_POLICY = "lnx_auditd_password_policy_discovery.yml"


def events_of(path: Path) -> list:  # type: ignore[type-arg]
    return trace_events(parse_file(path), user="drill", cwd="/tmp")


def test_execve_becomes_auditd_execve_records() -> None:
    execve = [e.event for e in events_of(TRACE) if e.event.get("type") == "EXECVE"]
    chage = next(e for e in execve if e["a0"] == "chage")
    assert (chage["a1"], chage["a2"], chage["argc"]) == ("-l", "root", "3")
    assert chage["exe"] == "/usr/bin/chage"


def test_opened_files_become_path_records_and_created_files_file_events() -> None:
    events = events_of(TRACE)
    paths = {e.event["name"] for e in events if e.event.get("type") == "PATH"}
    assert {"/etc/pam.d/common-password", "/etc/login.defs"} <= paths
    created = [e.event for e in events if e.logsource == "file_event"]
    assert created[0]["TargetFilename"] == "/tmp/drill-x12.sh"
    assert created[0]["Image"] == "/usr/bin/touch"
    renamed = created[1]
    assert (renamed["SourceFilename"], renamed["TargetFilename"]) == (
        "/tmp/drill-x12.sh",
        "/tmp/drill-y12.sh",
    )
    (deleted,) = [e.event for e in events if e.logsource == "file_delete"]
    assert deleted["TargetFilename"] == "/tmp/drill-y12.sh"
    assert deleted["Image"] == "/usr/bin/rm"


def test_connect_becomes_a_network_connection() -> None:
    lines = [
        '50 1796017971.5 execve("/usr/bin/curl", ["curl", "http://10.0.0.9"], 0x1) = 0',
        "50 1796017971.6 connect(3, {sa_family=AF_INET, sin_port=htons(80), "
        'sin_addr=inet_addr("10.0.0.9")}, 16) = -1 EINPROGRESS (Operation now in progress)',
        "50 1796017971.7 connect(4, {sa_family=AF_INET6, sin6_port=htons(443), "
        'sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}, 28) = 0',
        '50 1796017971.8 connect(5, {sa_family=AF_UNIX, sun_path="/run/nscd/socket"}, 110) = 0',
    ]
    found = [e.event for e in trace_events(parse_lines(lines), user="u", cwd="/")]
    network = [e for e in found if "DestinationIp" in e]
    assert [(e["DestinationIp"], e["DestinationPort"]) for e in network] == [
        ("10.0.0.9", 80),
        ("::1", 443),
    ]
    assert network[0]["Image"] == "/usr/bin/curl"
    assert network[0]["Initiated"] == "true"


def test_relative_paths_follow_the_working_directory() -> None:
    lines = [
        '7 1.0 chdir("/srv/app") = 0',
        '7 1.1 openat(AT_FDCWD, "out/log.txt", O_WRONLY|O_CREAT, 0644) = 3',
    ]
    (item,) = [
        e
        for e in trace_events(parse_lines(lines), user="u", cwd="/")
        if e.logsource == "file_event"
    ]
    assert item.event["TargetFilename"] == "/srv/app/out/log.txt"


def sigma_rule(name: str) -> Path:
    root = shared_data() / "sigma" / "rules" / "linux"
    found = [p for p in rule_files(root) if p.name == name]
    require(bool(found), f"SigmaHQ rule {name} not found")
    return found[0]


def fires(events: list, rule: Path) -> int:  # type: ignore[type-arg]
    engine = LocalSigmaBackend()
    (compiled,) = engine.compile([rule])
    engine.ingest_sourced(events)
    (match,) = engine.run([compiled], Scope(include_runner=True))
    return match.count


def test_t1201_fires_sigmahqs_auditd_password_policy_rule_from_a_recorded_trace() -> None:
    # chage -l, and the PATH records of /etc/pam.d/common-password and /etc/login.defs
    assert fires(events_of(TRACE), sigma_rule(PASSWORD_POLICY)) == 3


@pytest.mark.strace
def test_t1201_fires_the_rule_through_a_live_strace(tmp_path: Path) -> None:
    binary = require_binary("strace")
    require(Path("/etc/login.defs").is_file(), "/etc/login.defs is absent")
    out = tmp_path / "trace.txt"
    traced = ",".join(("execve", "clone", "clone3", "fork", "vfork", "chdir", *TRACED_SYSCALLS))
    # Atomic T1201-1 (password policy discovery, Linux): read the password policy files
    command = "cat /etc/pam.d/common-password /etc/login.defs > /dev/null 2>&1; true"
    done = subprocess.run(
        [
            binary,
            "-f",
            "-qq",
            "-ttt",
            "-s",
            "4096",
            "-e",
            f"trace={traced}",
            "-o",
            str(out),
            "--",
            "sh",
            "-c",
            command,
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )
    require(done.returncode == 0 and out.is_file(), f"strace cannot trace here: {done.stderr!r}")
    assert fires(events_of(out), sigma_rule(PASSWORD_POLICY)) >= 1


def test_a_file_event_rule_fires_on_a_created_file() -> None:
    rule = compile_text(
        "title: Script in tmp\nlogsource: {product: linux, category: file_event}\n"
        "detection:\n  sel:\n    TargetFilename|startswith: '/tmp/drill-'\n"
        "    TargetFilename|endswith: '.sh'\n  condition: sel\n",
        "r.yml",
    )
    engine = LocalSigmaBackend()
    engine.ingest_sourced(events_of(TRACE))
    (match,) = engine.run([rule], Scope(include_runner=True))
    assert match.count == 2  # created by touch, renamed by mv


@given(st.lists(st.text(max_size=120), max_size=20))
def test_any_trace_text_gives_events_or_nothing(lines: list[str]) -> None:
    for item in trace_events(parse_lines(lines), user="u", cwd="/"):
        assert item.logsource in ("auditd", "file_event", "file_delete", "network_connection")


def test_only_the_techniques_own_process_tree_gives_events() -> None:
    """The sandbox's supervisor (pid 60) and what the technique's process did before its
    own execve (pid 61 setting up) are left out; the technique's children are kept."""
    lines = [
        '60 1796017971.1 execve("/usr/bin/bwrap", ["bwrap", "--", "sh", "-c", "x"], 0x1) = 0',
        '60 1796017971.2 openat(AT_FDCWD, "/etc/login.defs", O_RDONLY) = 3',
        "60 1796017971.3 clone(child_stack=NULL, flags=SIGCHLD) = 61",
        '61 1796017971.4 openat(AT_FDCWD, "/etc/pam.d/common-auth", O_RDONLY) = 3',
        '61 1796017971.5 execve("/bin/sh", ["sh", "-c", "x"], 0x1) = 0',
        "61 1796017971.6 clone(child_stack=NULL, flags=SIGCHLD) = 62",
        '62 1796017971.7 execve("/bin/cat", ["cat", "/etc/pam.d/common-password"], 0x1) = 0',
        '62 1796017971.8 openat(AT_FDCWD, "/etc/pam.d/common-password", O_RDONLY) = 3',
        '60 1796017971.9 openat(AT_FDCWD, "/tmp/report", O_WRONLY|O_CREAT, 0600) = 4',
    ]
    records = parse_lines(lines)
    kept = trace_events(
        records, user="drill", cwd="/tmp", keep=technique_scope(records, ["sh", "-c", "x"])
    )
    paths = {e.event["name"] for e in kept if e.event.get("type") == "PATH"}
    assert paths == {"/bin/sh", "/bin/cat", "/etc/pam.d/common-password"}
    assert not [e for e in kept if e.logsource == "file_event"]
    assert {e.event["pid"] for e in kept} == {"61", "62"}
    cat = next(e.event for e in kept if e.event.get("name") == "/etc/pam.d/common-password")
    assert cat["exe"] == "/bin/cat"
    # without the technique's own execve nothing is the technique's
    assert trace_events(records, user="d", cwd="/", keep=technique_scope(records, ["nope"])) == []


def test_the_sensor_traces_the_calls_these_events_come_from(tmp_path: Path) -> None:
    traced = command(["true"], tmp_path / "t.txt", "strace", translate=False)
    syscalls = set(traced[traced.index("-e") + 1].removeprefix("trace=").split(","))
    assert set(TRACED_SYSCALLS) <= syscalls
    assert {"execve", "clone", "chdir"} <= syscalls
