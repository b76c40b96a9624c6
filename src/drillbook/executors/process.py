"""Running one detonation step: its own process group, a timeout, bounded output.

Each step starts with ``start_new_session=True``, so it leads a new session and process
group that holds everything it forks. On timeout, operator abort (Ctrl-C) or SIGTERM the
whole tree is killed with SIGKILL: the group, and any descendant that left the group
(found through ``/proc`` before the kill), because a process under ``strace`` cannot be
asked nicely (the tracer intercepts catchable signals) and a drill step owes nobody a
graceful exit. Output goes to temporary files, not pipes (no deadlock on chatty
commands), and only the first :data:`OUTPUT_LIMIT` bytes of each stream are kept.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import IO

from drillbook import clock

OUTPUT_LIMIT = 64 * 1024
POLL_SECONDS = 0.02
# every process a technique step starts inherits this variable (set by the executor), so
# one that left both the step's process group and its tree (``(setsid cmd &)``) is found
TECHNIQUE_ENV = "DRILLBOOK_TECHNIQUE_RUN_ID"


class OperatorAbort(BaseException):
    """The operator stopped the drill (Ctrl-C or SIGTERM). A BaseException, like
    KeyboardInterrupt, so that nothing between the signal and the runner swallows it."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(f"operator abort ({signal_name})")
        self.signal_name = signal_name


class AbortRequested(OperatorAbort):
    """Someone pulled ``drillbook drill abort`` (from any terminal, or the web app)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# How often a running step asks whether someone requested an abort.
ABORT_POLL_SECONDS = 0.25


@dataclass
class ProcessResult:
    """What one step did."""

    argv: list[str]
    pid: int | None
    exit_code: int | None
    timed_out: bool
    aborted: bool
    started_at: datetime
    ended_at: datetime
    stdout: str
    stderr: str
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    error: str | None = None  # the step could not start at all
    stopped: str | None = None  # why the runner stopped it early (e.g. too much data sent)

    @property
    def duration_seconds(self) -> float:
        return (self.ended_at - self.started_at).total_seconds()


def _read_bounded(handle: IO[bytes]) -> tuple[str, bool]:
    handle.seek(0)
    data = handle.read(OUTPUT_LIMIT + 1)
    truncated = len(data) > OUTPUT_LIMIT
    return data[:OUTPUT_LIMIT].decode("utf-8", errors="replace"), truncated


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    proc = Path("/proc")
    if not proc.is_dir():
        return children
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name is in parentheses and may hold spaces: parse after the last ')'
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` right now (Linux /proc; empty elsewhere)."""
    tree = _children_map()
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in tree.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def kill_tree(pgid: int) -> None:
    """SIGKILL the process group ``pgid`` and every descendant of its leader."""
    stragglers = descendants(pgid)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    for pid in stragglers:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


def marked_processes(name: str, value: str) -> list[int]:
    """Processes other than this one that started with ``name=value`` in their
    environment (Linux /proc; own processes, or all when root)."""
    needle = f"{name}={value}".encode()
    found: list[int] = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    me = os.getpid()
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        try:
            raw = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in raw.split(b"\0"):
            found.append(int(entry.name))
    return found


def kill_marked(technique_run_id: str) -> list[int]:
    """SIGKILL every process still carrying a technique run's :data:`TECHNIQUE_ENV`."""
    pids = marked_processes(TECHNIQUE_ENV, technique_run_id)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)
    return pids


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def environ_of(pid: int) -> dict[str, str]:
    """The environment ``pid`` started with (own processes only; empty when unreadable)."""
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    out: dict[str, str] = {}
    for item in raw.split(b"\0"):
        key, sep, value = item.decode("utf-8", "replace").partition("=")
        if sep:
            out[key] = value
    return out


def run_step(
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: Path,
    timeout: float,
    on_start: Callable[[int], None] | None = None,
    abort_requested: Callable[[], str | None] | None = None,
    stop_when: Callable[[], str | None] | None = None,
) -> ProcessResult:
    """Run ``argv`` in its own process group; kill the tree at ``timeout`` seconds.

    An :class:`OperatorAbort` or KeyboardInterrupt arriving while waiting kills the tree
    and is re-raised after the result is recorded on the exception (``.result``); so is
    an :class:`AbortRequested` when ``abort_requested`` (asked every
    :data:`ABORT_POLL_SECONDS`) returns a reason. ``stop_when`` (asked as often) ends only
    this step: its tree is killed and the reason kept as ``stopped``.
    """
    started = clock.now()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                env=env,
                cwd=str(cwd),
                start_new_session=True,
            )
        except OSError as exc:
            now = clock.now()
            return ProcessResult(
                argv,
                None,
                None,
                False,
                False,
                started,
                now,
                "",
                "",
                error=f"cannot start {argv[0]}: {exc.strerror or exc}",
            )
        timed_out = False
        stopped: str | None = None
        interrupted: BaseException | None = None
        try:
            if on_start is not None:
                on_start(proc.pid)
            deadline = clock.monotonic() + timeout
            next_ask = clock.monotonic() + ABORT_POLL_SECONDS
            while proc.poll() is None:
                if clock.monotonic() >= deadline:
                    timed_out = True
                    kill_tree(proc.pid)
                    break
                if clock.monotonic() >= next_ask:
                    next_ask = clock.monotonic() + ABORT_POLL_SECONDS
                    reason = abort_requested() if abort_requested is not None else None
                    if reason:
                        raise AbortRequested(reason)
                    stopped = stop_when() if stop_when is not None else None
                    if stopped:
                        kill_tree(proc.pid)
                        break
                time.sleep(POLL_SECONDS)
        except BaseException as exc:  # Ctrl-C, SIGTERM (OperatorAbort), anything: kill first
            interrupted = exc
            kill_tree(proc.pid)
        finally:
            proc.wait()
            # members of the group may outlive the leader (backgrounded children), and a
            # double-forked setsid child leaves both the group and the tree
            kill_tree(proc.pid)
            if env.get(TECHNIQUE_ENV):
                kill_marked(env[TECHNIQUE_ENV])
        stdout, out_cut = _read_bounded(out)
        stderr, err_cut = _read_bounded(err)
    result = ProcessResult(
        argv,
        proc.pid,
        None if (timed_out or interrupted or stopped) else proc.returncode,
        timed_out,
        interrupted is not None,
        started,
        clock.now(),
        stdout,
        stderr,
        out_cut,
        err_cut,
        stopped=stopped,
    )
    if interrupted is not None:
        interrupted.result = result  # type: ignore[attr-defined]
        raise interrupted
    return result


@contextlib.contextmanager
def abort_on_signals() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`OperatorAbort` while a drill runs, so cleanup
    runs on both. Only possible in the main thread; elsewhere this does nothing."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        raise OperatorAbort(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def signals_deferred() -> Iterator[list[int]]:
    """Hold SIGINT/SIGTERM while a cleanup runs (a second Ctrl-C must not skip it); the
    held signals are reported to the caller, which decides to abort afterwards."""
    import threading

    held: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield held
        return

    def hold(signum: int, _frame: FrameType | None) -> None:
        held.append(signum)

    previous = {sig: signal.signal(sig, hold) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield held
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def user_name() -> str:
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())
