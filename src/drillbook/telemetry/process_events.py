"""Process-creation events from a strace trace, in Sigma's ``process_creation`` fields.

Sigma's Linux process_creation rules read ``Image``, ``CommandLine``, ``ParentImage``,
``ParentCommandLine``, ``ProcessId``, ``ParentProcessId``, ``User``, ``CurrentDirectory``
and ``UtcTime``; every successful ``execve`` in the trace becomes one event with those.
Parents come from the ``clone``/``fork``/``vfork`` results (threads, ``CLONE_THREAD``, are
folded into their process); a parent's image is the last program it executed before the
child's ``execve`` (or, for a forked child that has not executed anything yet, its own
parent's). ``CurrentDirectory`` follows ``chdir`` calls and is inherited across forks.

Attribution is by process tree, not by command text: the technique's own process is the
first one that executed exactly the technique's argv (``sh -c '<command>'``, as the atomic
or the plan wrote it); it and every process below it are the technique's. Everything
else in the trace (the sandbox, its supervisor) carries ``is_runner=True``, so detection
checks leave it out by default. Without a ``technique_argv`` the first program executed
is the technique's own process.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from drillbook.telemetry.sensors.strace import SyscallRecord

SIGMA_FIELDS = (
    "Image",
    "CommandLine",
    "ParentImage",
    "ParentCommandLine",
    "ProcessId",
    "ParentProcessId",
    "User",
    "CurrentDirectory",
    "UtcTime",
)
_FORKS = {"clone", "clone3", "fork", "vfork"}


@dataclass(frozen=True)
class ProcessCreation:
    """One process-creation event, Sigma field names as attributes."""

    UtcTime: datetime
    ProcessId: int
    ParentProcessId: int | None
    Image: str
    CommandLine: str
    ParentImage: str | None
    ParentCommandLine: str | None
    User: str
    CurrentDirectory: str | None
    is_runner: bool = False

    def sigma(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunnerProcess:
    """The process that started the trace (strace): the root's parent."""

    pid: int
    image: str
    command_line: str


def command_line(argv: list[str]) -> str:
    """The command line as Linux sensors report it: arguments joined by spaces."""
    return " ".join(argv)


@dataclass
class _Exec:
    time: datetime
    index: int
    image: str
    command_line: str


def same_argv(seen: list[str], wanted: list[str]) -> bool:
    """``seen`` is ``wanted`` (the sensor may have cut a very long last argument)."""
    if seen == wanted:
        return True
    if len(seen) != len(wanted) or not seen:
        return False
    return seen[:-1] == wanted[:-1] and len(seen[-1]) >= 4096 and wanted[-1].startswith(seen[-1])


def build_events(
    records: list[SyscallRecord],
    *,
    runner: RunnerProcess,
    user: str,
    cwd: Path,
    technique_argv: list[str] | None = None,
) -> list[ProcessCreation]:
    """Events for every successful execve in ``records`` (already in time order)."""
    if not records:
        return []
    leader: dict[int, int] = {}
    parent: dict[int, tuple[int, datetime, int]] = {}  # child -> (parent, fork time, index)
    chdirs: dict[int, list[tuple[datetime, int, str]]] = {}
    execs: dict[int, list[_Exec]] = {}

    def lead(pid: int) -> int:
        return leader.get(pid, pid)

    root: int | None = None
    technique: tuple[int, int] | None = None  # (pid, index of its first own execve)
    for rec in records:
        pid = lead(rec.pid)
        if rec.name in _FORKS:
            child = rec.return_value
            if child is None or child <= 0:
                continue
            if "CLONE_THREAD" in rec.args:
                leader[child] = pid
            else:
                parent[child] = (pid, rec.time, rec.index)
        elif rec.name == "chdir" and rec.ok and rec.parsed and isinstance(rec.parsed[0], str):
            chdirs.setdefault(pid, []).append((rec.time, rec.index, rec.parsed[0]))
        elif rec.name == "execve" and rec.ok and len(rec.parsed) >= 2:
            filename, argv = rec.parsed[0], rec.parsed[1]
            if not isinstance(filename, str) or not isinstance(argv, list):
                continue
            if root is None:
                root = pid
            if technique is None and (
                technique_argv is None or same_argv([str(a) for a in argv], technique_argv)
            ):
                technique = (pid, rec.index)
            execs.setdefault(pid, []).append(
                _Exec(rec.time, rec.index, filename, command_line([str(a) for a in argv]))
            )

    def cwd_at(pid: int, when: tuple[datetime, int]) -> str:
        seen: set[int] = set()
        current = pid
        moment = when
        while current not in seen:
            seen.add(current)
            changes = [c for c in chdirs.get(current, []) if (c[0], c[1]) <= moment]
            if changes:
                base = _cwd_chain(current, changes, cwd_at, parent, cwd)
                return base
            if current in parent:
                ppid, ftime, findex = parent[current]
                current, moment = ppid, (ftime, findex)
                continue
            break
        return str(cwd)

    def image_at(pid: int, when: tuple[datetime, int]) -> tuple[str, str] | None:
        seen: set[int] = set()
        current, moment = pid, when
        while current not in seen:
            seen.add(current)
            done = [e for e in execs.get(current, []) if (e.time, e.index) <= moment]
            if done:
                return done[-1].image, done[-1].command_line
            if current in parent:
                ppid, ftime, findex = parent[current]
                current, moment = ppid, (ftime, findex)
                continue
            break
        if current == root:
            return runner.image, runner.command_line
        return None

    children: dict[int, list[int]] = {}
    for child, (ppid_, _, _) in parent.items():
        children.setdefault(ppid_, []).append(child)
    owned: set[int] = set()
    if technique is not None:
        stack = [technique[0]]
        while stack:
            current = stack.pop()
            if current not in owned:
                owned.add(current)
                stack.extend(children.get(current, []))

    def is_runner(pid: int, run: _Exec) -> bool:
        if technique is None or pid not in owned:
            return True
        return pid == technique[0] and run.index < technique[1]

    events: list[ProcessCreation] = []
    for pid, runs in execs.items():
        for run in runs:
            moment = (run.time, run.index)
            directory = cwd_at(pid, moment)
            image = (
                run.image
                if os.path.isabs(run.image)
                else os.path.normpath(os.path.join(directory, run.image))
            )
            if pid in parent:
                ppid: int | None = parent[pid][0]
                parent_info = image_at(parent[pid][0], moment)
            elif pid == root:
                ppid = runner.pid
                parent_info = (runner.image, runner.command_line)
            else:
                ppid, parent_info = None, None
            events.append(
                ProcessCreation(
                    UtcTime=run.time,
                    ProcessId=pid,
                    ParentProcessId=ppid,
                    Image=image,
                    CommandLine=run.command_line,
                    ParentImage=parent_info[0] if parent_info else None,
                    ParentCommandLine=parent_info[1] if parent_info else None,
                    User=user,
                    CurrentDirectory=directory,
                    is_runner=is_runner(pid, run),
                )
            )
    events.sort(key=lambda e: (e.UtcTime, e.ProcessId))
    return events


def _cwd_chain(
    pid: int,
    changes: list[tuple[datetime, int, str]],
    cwd_at: Any,
    parent: dict[int, tuple[int, datetime, int]],
    start: Path,
) -> str:
    """Apply ``pid``'s chdir calls (the last absolute one and the relative ones after it)
    on top of the directory it inherited."""
    base: str
    absolute = [i for i, c in enumerate(changes) if c[2].startswith("/")]
    if absolute:
        first = absolute[-1]
        base = changes[first][2]
        rest = changes[first + 1 :]
    else:
        if pid in parent:
            ppid, ftime, findex = parent[pid]
            base = cwd_at(ppid, (ftime, findex))
        else:
            base = str(start)
        rest = changes
    for _, _, step in rest:
        base = os.path.normpath(os.path.join(base, step))
    return base
