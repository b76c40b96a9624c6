"""File, network and auditd-shaped events from a strace trace, for SigmaHQ's Linux rules.

:mod:`drillbook.telemetry.process_events` turns ``execve`` calls into process_creation
events. This module reads the rest of a trace, so more of SigmaHQ's Linux rules can be
drilled with no SIEM:

* ``file_event`` (Sigma's Linux file creation): ``openat``/``open`` with ``O_CREAT``,
  ``creat``, and the new name of a ``rename``; fields ``TargetFilename``, ``Image``,
  ``ProcessId``, ``User``, ``UtcTime`` (a rename also ``SourceFilename``);
  ``file_delete`` for ``unlink``/``unlinkat``/``rmdir``;
* ``network_connection``: ``connect`` to an IPv4/IPv6 address (refused or pending
  connections count: the attempt is the behaviour), with ``DestinationIp``,
  ``DestinationPort``, ``Initiated: 'true'``;
* ``auditd``, in auditd's own record shapes: ``type: EXECVE`` with ``argc``, ``a0``,
  ``a1``, ...; ``type: SYSCALL`` with ``syscall``, ``exe``, ``comm``, ``pid``, ``success``;
  ``type: PATH`` with ``name`` (as the program wrote it, like auditd) and ``nametype``
  for every file a process opens, creates, deletes or renames.

The sensor must trace :data:`TRACED_SYSCALLS` (besides the process calls) for these
events to exist; a trace without them gives process and EXECVE events only.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drillbook.telemetry.readers.jsonl import SourcedEvent
from drillbook.telemetry.sensors.strace import SyscallRecord

TRACED_SYSCALLS = (
    "open",
    "openat",
    "creat",
    "unlink",
    "unlinkat",
    "rmdir",
    "rename",
    "renameat",
    "renameat2",
    "connect",
)
_FORKS = {"clone", "clone3", "fork", "vfork"}
_INET = re.compile(r'sin_port=htons\((\d+)\).*?sin_addr=inet_addr\("([^"]+)"\)')
_INET6 = re.compile(r'sin6_port=htons\((\d+)\).*?inet_pton\(AF_INET6,\s*"([^"]+)"')
_PENDING = ("EINPROGRESS", "ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH")


@dataclass
class _Process:
    image: str | None = None
    comm: str | None = None
    cwd: str | None = None
    ppid: int | None = None


@dataclass
class _State:
    """Per-process image and working directory, replayed in trace order."""

    cwd: str
    user: str
    processes: dict[int, _Process] = field(default_factory=dict)
    leader: dict[int, int] = field(default_factory=dict)

    def of(self, pid: int) -> _Process:
        pid = self.leader.get(pid, pid)
        return self.processes.setdefault(pid, _Process(cwd=self.cwd))

    def absolute(self, pid: int, path: str, dirfd: object = "AT_FDCWD") -> str:
        if os.path.isabs(path) or dirfd not in ("AT_FDCWD", None):
            return path
        return os.path.normpath(os.path.join(self.of(pid).cwd or self.cwd, path))


def _base(rec: SyscallRecord, state: _State, **fields: Any) -> dict[str, Any]:
    process = state.of(rec.pid)
    return {
        "UtcTime": rec.time,
        "ProcessId": state.leader.get(rec.pid, rec.pid),
        "Image": process.image,
        "User": state.user,
        **fields,
    }


def _audit(rec: SyscallRecord, state: _State, kind: str, **fields: Any) -> dict[str, Any]:
    """An auditd record: auditd's names (``type``, ``pid``, ``exe``) and a timestamp."""
    process = state.of(rec.pid)
    return {
        "type": kind,
        "timestamp": rec.time,
        "pid": str(state.leader.get(rec.pid, rec.pid)),
        "ppid": None if process.ppid is None else str(process.ppid),
        "exe": process.image,
        "comm": process.comm,
        **fields,
    }


def _syscall(rec: SyscallRecord, state: _State) -> dict[str, Any]:
    return _audit(
        rec,
        state,
        "SYSCALL",
        syscall=rec.name,
        success="yes" if rec.ok else "no",
        exit=str(rec.return_value) if rec.return_value is not None else None,
    )


def _path(rec: SyscallRecord, state: _State, name: str, nametype: str) -> dict[str, Any]:
    return _audit(rec, state, "PATH", name=name, nametype=nametype)


def _file_events(rec: SyscallRecord, state: _State) -> Iterator[SourcedEvent]:
    name = rec.name
    parsed = rec.parsed
    if name in ("open", "openat", "creat"):
        offset = 1 if name == "openat" else 0
        found = _arg(parsed, offset)
        if found is None:
            return
        path = found
        flags = str(parsed[offset + 1]) if len(parsed) > offset + 1 else ""
        created = name == "creat" or "O_CREAT" in flags
        dirfd = parsed[0] if name == "openat" else "AT_FDCWD"
        if rec.ok:
            yield SourcedEvent(_syscall(rec, state), "auditd", ("linux",))
            yield SourcedEvent(
                _path(rec, state, path, "CREATE" if created else "NORMAL"), "auditd", ("linux",)
            )
        if created and rec.ok:
            target = state.absolute(rec.pid, path, dirfd)
            yield SourcedEvent(_base(rec, state, TargetFilename=target), "file_event")
    elif name in ("unlink", "unlinkat", "rmdir") and rec.ok:
        at = name == "unlinkat"
        gone = _arg(parsed, 1 if at else 0)
        if gone is None:
            return
        target = state.absolute(rec.pid, gone, parsed[0] if at else "AT_FDCWD")
        yield SourcedEvent(_syscall(rec, state), "auditd", ("linux",))
        yield SourcedEvent(_path(rec, state, gone, "DELETE"), "auditd", ("linux",))
        yield SourcedEvent(_base(rec, state, TargetFilename=target), "file_delete")
    elif name in ("rename", "renameat", "renameat2") and rec.ok:
        at = name != "rename"
        old, new = _arg(parsed, 1 if at else 0), _arg(parsed, 3 if at else 1)
        if old is None or new is None:
            return
        source = state.absolute(rec.pid, old, parsed[0] if at else "AT_FDCWD")
        target = state.absolute(rec.pid, new, parsed[2] if at else "AT_FDCWD")
        yield SourcedEvent(_syscall(rec, state), "auditd", ("linux",))
        yield SourcedEvent(_path(rec, state, old, "DELETE"), "auditd", ("linux",))
        yield SourcedEvent(_path(rec, state, new, "CREATE"), "auditd", ("linux",))
        yield SourcedEvent(
            _base(rec, state, TargetFilename=target, SourceFilename=source), "file_event"
        )


def _arg(parsed: list[object], index: int) -> str | None:
    """The path argument at ``index`` (the parser keeps every argument as text)."""
    value = parsed[index] if len(parsed) > index else None
    return value if isinstance(value, str) and value else None


def _connection(rec: SyscallRecord, state: _State) -> Iterator[SourcedEvent]:
    pending = any(code in rec.result for code in _PENDING)
    if not (rec.ok or pending):
        return
    found = _INET.search(rec.args) or _INET6.search(rec.args)
    if found is None:
        return  # a Unix socket or a family rules do not read
    port, address = found.group(1), found.group(2)
    yield SourcedEvent(
        _base(
            rec,
            state,
            DestinationIp=address,
            DestinationPort=int(port),
            Initiated="true",
        ),
        "network_connection",
    )
    yield SourcedEvent(_syscall(rec, state), "auditd", ("linux",))
    yield SourcedEvent(
        _audit(
            rec,
            state,
            "SOCKADDR",
            saddr_fam="inet6" if ":" in address else "inet",
            laddr=address,
            lport=port,
        ),
        "auditd",
        ("linux",),
    )


def _execve(rec: SyscallRecord, state: _State) -> Iterator[SourcedEvent]:
    filename, argv = rec.parsed[0], rec.parsed[1]
    if not isinstance(filename, str) or not isinstance(argv, list):
        return
    process = state.of(rec.pid)
    process.image = state.absolute(rec.pid, filename)
    process.comm = os.path.basename(filename)[:15]
    args = {f"a{i}": str(a) for i, a in enumerate(argv)}
    yield SourcedEvent(_syscall(rec, state), "auditd", ("linux",))
    yield SourcedEvent(
        _audit(rec, state, "EXECVE", argc=str(len(argv)), **args), "auditd", ("linux",)
    )
    yield SourcedEvent(_path(rec, state, filename, "NORMAL"), "auditd", ("linux",))


def technique_scope(
    records: Iterable[SyscallRecord], technique_argv: list[str] | None
) -> Callable[[SyscallRecord], bool]:
    """Which records belong to the technique's own process tree.

    The tree starts at the technique's own ``execve`` (the first one whose argv is
    ``technique_argv``, as :func:`drillbook.telemetry.process_events.build_events`
    decides; without one, the first ``execve``) and takes in every process forked below
    it afterwards (threads join their process). What that process did before the
    ``execve`` (the sandbox setting itself up) and every other process (the sandbox's
    supervisor, strace's own child) are left out, as they are for process_creation.
    """
    from drillbook.telemetry.process_events import same_argv

    owned_from: dict[int, int] = {}  # leader pid -> index of the record it joined at
    leader: dict[int, int] = {}
    started = False
    for rec in records:
        pid = leader.get(rec.pid, rec.pid)
        if rec.name in _FORKS:
            child = rec.return_value
            if child is None or child <= 0:
                continue
            if "CLONE_THREAD" in rec.args:
                leader[child] = pid
            elif pid in owned_from:
                owned_from.setdefault(child, rec.index)
        elif not started and rec.name == "execve" and rec.ok and len(rec.parsed) >= 2:
            argv = rec.parsed[1]
            if isinstance(argv, list) and (
                technique_argv is None or same_argv([str(a) for a in argv], technique_argv)
            ):
                started = True
                owned_from[pid] = rec.index

    def belongs(rec: SyscallRecord) -> bool:
        joined = owned_from.get(leader.get(rec.pid, rec.pid))
        return joined is not None and rec.index >= joined

    return belongs


def trace_events(
    records: Iterable[SyscallRecord],
    *,
    user: str,
    cwd: Path | str,
    keep: Callable[[SyscallRecord], bool] | None = None,
) -> list[SourcedEvent]:
    """File, network and auditd events from parsed strace records (in trace order);
    with ``keep`` (see :func:`technique_scope`), only the events of the records it keeps
    (every record still updates the processes' images and directories)."""
    state = _State(cwd=str(cwd), user=user)
    out: list[SourcedEvent] = []
    for rec in records:
        if keep is not None and rec.name not in _FORKS and rec.name != "chdir" and not keep(rec):
            if rec.name == "execve" and rec.ok and len(rec.parsed) >= 2:
                list(_execve(rec, state))  # the process's new image, no events
            continue
        if rec.name in _FORKS:
            child = rec.return_value
            if child is not None and child > 0:
                if "CLONE_THREAD" in rec.args:
                    state.leader[child] = state.leader.get(rec.pid, rec.pid)
                else:
                    parent = state.of(rec.pid)
                    state.processes[child] = _Process(
                        image=parent.image,
                        comm=parent.comm,
                        cwd=parent.cwd,
                        ppid=state.leader.get(rec.pid, rec.pid),
                    )
        elif rec.name == "chdir" and rec.ok and rec.parsed and isinstance(rec.parsed[0], str):
            state.of(rec.pid).cwd = state.absolute(rec.pid, rec.parsed[0])
        elif rec.name == "execve" and rec.ok and len(rec.parsed) >= 2:
            out.extend(_execve(rec, state))
        elif rec.name == "connect":
            out.extend(_connection(rec, state))
        else:
            out.extend(_file_events(rec, state))
    return out
