"""The zero-privilege process sensor: run a step under ``strace -f``.

A detonation is launched as ``strace --pidns-translation -f -qq -ttt -s 65536 -v -e
trace=execve,clone,clone3,fork,vfork,chdir,open,openat,... -e signal=none -o FILE -- bwrap
... sh -c '<command>'`` (the file, connection and rename calls
:mod:`drillbook.telemetry.strace_events` reads are traced too): strace wraps the
sandbox from outside (the technique cannot reach the trace), reports the sandbox's pids
as the host sees them, needs no root and no kernel module, and traces only the step's
own processes. This module builds that command line, probes whether strace can trace
here (containers often forbid ptrace), and parses the output file into
:class:`SyscallRecord`\\ s; turning those into process-creation events is
:mod:`drillbook.telemetry.process_events`' job, into file, network and auditd events
:mod:`drillbook.telemetry.strace_events`'.

The output format parsed (strace 5 and 6)::

    13714 1795237433.675731 execve("/usr/bin/sh", ["sh", "-c", "..."], [...]) = 0
    13714 1795237433.679089 vfork( <unfinished ...>
    13714 1795237433.680563 <... vfork resumed>) = 13715
    13714 1795237433.685549 clone(child_stack=NULL, flags=...|SIGCHLD, ...) = 13716

Strings are C-escaped (``\\"``, ``\\\\``, ``\\n``, octal ``\\33``, hex ``\\x1b``); a string cut
at ``-s`` ends in ``"...``. Split calls (``<unfinished ...>`` / ``<... resumed>``) are joined.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

TRACED_SYSCALLS = ("execve", "clone", "clone3", "fork", "vfork", "chdir")
STRING_LIMIT = 65536
_LINE = re.compile(r"^(\d+)\s+(\d+(?:\.\d+)?)\s+(.*)$")
_RESUMED = re.compile(r"^<\.\.\. (\w+) resumed>(.*)$")
_CALL = re.compile(r"^(\w+)\((.*)$")
_UNFINISHED = " <unfinished ...>"
_TRANSLATED = re.compile(r"/\* (\d+) in strace's PID NS \*/")
_SIMPLE_ESCAPES = {
    "n": 10,
    "t": 9,
    "r": 13,
    "v": 11,
    "f": 12,
    "a": 7,
    "b": 8,
    '"': 34,
    "\\": 92,
    "'": 39,
    "?": 63,
}


def strace_binary() -> str | None:
    return shutil.which("strace")


@functools.cache
def probe() -> tuple[bool, str]:
    """Whether strace can trace a child here, and why not when it cannot."""
    binary = strace_binary()
    if binary is None:
        return False, "strace is not installed (apt-get install strace)"
    try:
        done = subprocess.run(
            [binary, "-f", "-qq", "-e", "trace=execve", "-o", "/dev/null", "--", "true"],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"strace cannot start: {exc}"
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["unknown error"])[-1]
        return False, f"strace cannot trace here ({detail}); ptrace may be forbidden"
    return True, "strace works"


@functools.cache
def translates_pids() -> bool:
    """Whether this strace can report a sandboxed child's pid as the host sees it
    (``--pidns-translation``, strace 5.9 and later)."""
    binary = strace_binary()
    if binary is None:
        return False
    try:
        done = subprocess.run(
            [binary, "--pidns-translation", "-qq", "-o", "/dev/null", "--", "true"],
            capture_output=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def command(
    argv: list[str],
    output: Path,
    binary: str | None = None,
    *,
    translate: bool | None = None,
    network: bool = False,
) -> list[str]:
    """``argv`` wrapped in strace, writing the trace to ``output`` (``translate``: whether
    this strace has ``--pidns-translation``, default: ask the local one; ``network``: also
    trace sends and writes with decoded descriptors, for the network meter)."""
    from drillbook.telemetry.sensors.netmeter import SEND_SYSCALLS
    from drillbook.telemetry.strace_events import TRACED_SYSCALLS as EVENT_SYSCALLS

    translate = translates_pids() if translate is None else translate
    syscalls = TRACED_SYSCALLS + EVENT_SYSCALLS + (SEND_SYSCALLS if network else ())
    return [
        binary or strace_binary() or "strace",
        *(["--pidns-translation"] if translate else []),
        *(["-yy"] if network else []),
        "-f",
        "-qq",
        "-ttt",
        "-s",
        str(STRING_LIMIT),
        "-v",
        "-e",
        "trace=" + ",".join(syscalls),
        "-e",
        "signal=none",
        "-o",
        str(output),
        "--",
        *argv,
    ]


@dataclass
class SyscallRecord:
    """One (joined) syscall line: who, when, what, with which arguments, and the result."""

    pid: int
    time: datetime
    name: str
    args: str
    result: str
    index: int = 0
    parsed: list[object] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            bool(self.result)
            and not self.result.lstrip().startswith("-1")
            and not self.result.lstrip().startswith("?")
        )

    @property
    def return_value(self) -> int | None:
        """The result as a number; a child's pid in strace's own PID namespace when the
        tracee sits in another one (``3 /* 17836 in strace's PID NS */``)."""
        translated = _TRANSLATED.search(self.result)
        if translated:
            return int(translated.group(1))
        head = self.result.strip().split(" ", 1)[0] if self.result.strip() else ""
        try:
            return int(head, 0)
        except ValueError:
            return None


def parse_c_string(text: str, start: int) -> tuple[str, int]:
    """Parse the C string literal at ``text[start] == '"'``; return it and the index after
    it (and after a ``...`` truncation mark)."""
    if start >= len(text) or text[start] != '"':
        raise ValueError(f"expected a string at column {start}")
    out = bytearray()
    i = start + 1
    while i < len(text):
        ch = text[i]
        if ch == '"':
            i += 1
            if text.startswith("...", i):
                i += 3
            return out.decode("utf-8", errors="replace"), i
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            if nxt in _SIMPLE_ESCAPES:
                out.append(_SIMPLE_ESCAPES[nxt])
                i += 2
            elif nxt == "x":
                digits = re.match(r"[0-9a-fA-F]{1,2}", text[i + 2 :])
                if digits is None:
                    out.extend(b"\\x")
                    i += 2
                else:
                    out.append(int(digits.group(0), 16))
                    i += 2 + len(digits.group(0))
            elif nxt in "01234567":
                digits = re.match(r"[0-7]{1,3}", text[i + 1 :])
                assert digits is not None
                out.append(int(digits.group(0), 8) & 0xFF)
                i += 1 + len(digits.group(0))
            else:
                out.extend(("\\" + nxt).encode())
                i += 2
        else:
            out.extend(ch.encode("utf-8", errors="replace"))
            i += 1
    raise ValueError("unterminated string")


def _skip_value(text: str, i: int) -> int:
    """Index after the (non-string) argument starting at ``i``: up to a top-level comma."""
    depth = 0
    while i < len(text):
        ch = text[i]
        if ch == '"':
            _, i = parse_c_string(text, i)
            continue
        if ch in "[{(":
            depth += 1
        elif ch in "]})":
            if depth == 0:
                return i
            depth -= 1
        elif ch == "," and depth == 0:
            return i
        i += 1
    return i


def parse_arguments(args: str) -> tuple[list[object], str]:
    """Split ``args`` (the text after ``name(``) into arguments and the result text.

    Strings become ``str``; string arrays become ``list[str]``; anything else is kept as
    its raw text. The result is what follows the closing ``) = ``.
    """
    values: list[object] = []
    i = 0
    text = args
    while i < len(text):
        while i < len(text) and text[i] in " ,":
            i += 1
        if i >= len(text):
            break
        ch = text[i]
        if ch == ")":
            rest = text[i + 1 :].strip()
            return values, rest[1:].strip() if rest.startswith("=") else rest
        if ch == '"':
            value, i = parse_c_string(text, i)
            values.append(value)
        elif ch == "[":
            items: list[str] = []
            i += 1
            while i < len(text) and text[i] != "]":
                if text[i] == '"':
                    item, i = parse_c_string(text, i)
                    items.append(item)
                elif text.startswith("...", i):
                    i += 3
                else:
                    i += 1
            i += 1
            values.append(items)
        else:
            end = _skip_value(text, i)
            if end == i:  # a stray closing bracket: skip it
                i += 1
                continue
            values.append(text[i:end].strip())
            i = end
    return values, ""


def parse_lines(lines: list[str]) -> list[SyscallRecord]:
    """Parse strace ``-f -ttt`` output lines; joins split calls; skips what it cannot read
    (signal and exit lines, a last line cut by a kill)."""
    records: list[SyscallRecord] = []
    pending: dict[tuple[int, str], tuple[datetime, str, int]] = {}
    for index, line in enumerate(lines):
        match = _LINE.match(line.rstrip("\n"))
        if not match:
            continue
        pid = int(match.group(1))
        moment = datetime.fromtimestamp(float(match.group(2)), tz=UTC)
        body = match.group(3)
        resumed = _RESUMED.match(body)
        if resumed:
            name = resumed.group(1)
            start = pending.pop((pid, name), None)
            if start is None:
                continue
            moment, head, index = start
            body_args = head + resumed.group(2)
        else:
            call = _CALL.match(body)
            if not call:
                continue
            name, body_args = call.group(1), call.group(2)
            if body_args.endswith(_UNFINISHED):
                pending[(pid, name)] = (moment, body_args[: -len(_UNFINISHED)], index)
                continue
        try:
            parsed, result = parse_arguments(body_args)
        except ValueError:
            continue
        records.append(SyscallRecord(pid, moment, name, body_args, result, index, parsed))
    records.sort(key=lambda r: (r.time, r.index))
    return records


def parse_file(path: Path) -> list[SyscallRecord]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return parse_lines(text.splitlines())
