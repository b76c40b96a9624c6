"""Run drillbook's CLI in forked processes, to kill them at chosen moments.

Forking after the CLI is imported makes each run cost milliseconds instead of a second of
start-up, while the child runs exactly the code a ``drillbook ...`` process runs (it calls
the same Typer app with the same arguments and environment)."""

from __future__ import annotations

import functools
import os
import re
import select
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class Outcome:
    status: int  # exit code, or -signal when killed
    stdout: str
    stderr: str


@functools.cache
def _command() -> Any:
    """The CLI as a click command, built once in the parent: Typer's build of it is most of
    a command's CPU time, and the forked children inherit it ready-made."""
    import typer

    from drillbook.cli.main import app

    return typer.main.get_command(app)


def _child(
    args: list[str], env: dict[str, str], out: int, err: int, hook: str, stdin: int | None
) -> None:
    try:
        if stdin is not None:
            os.dup2(stdin, 0)
            sys.stdin = open(0)  # noqa: SIM115
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        os.environ.update(env)
        if hook == "kill-before-commit":
            from sqlalchemy import event
            from sqlalchemy.orm import Session

            def kill(session: Session) -> None:
                if session.info.get("wrote") or session.new or session.dirty:
                    os.kill(os.getpid(), signal.SIGKILL)

            def wrote(session: Session, _context: object) -> None:
                session.info["wrote"] = True

            event.listen(Session, "after_flush", wrote)
            event.listen(Session, "before_commit", kill)
        if hook == "kill-mid-migration":
            from sqlalchemy import Engine, event

            def kill_at_meta(_conn: object, _cursor: object, statement: str, *_: object) -> None:
                # after every migration step ran, as the upgrade records who did it
                if "UPDATE store_meta SET value" in statement:
                    os.kill(os.getpid(), signal.SIGKILL)

            event.listen(Engine, "before_cursor_execute", kill_at_meta)
        code: object = 0
        try:
            _command().main(args, prog_name="drillbook")
        except SystemExit as exc:
            code = exc.code
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code if isinstance(code, int) else 1)
    except BaseException:  # pragma: no cover - only when the harness itself breaks
        import traceback

        traceback.print_exc()
        sys.stderr.flush()
        os._exit(99)


@dataclass
class Running:
    pid: int
    out: int
    err: int
    stdin: int | None = None
    seen: bytes = b""  # standard output read by read_until, not yet handed to finish

    def write(self, line: str) -> None:
        assert self.stdin is not None
        os.write(self.stdin, line.encode())

    def close_stdin(self) -> None:
        if self.stdin is not None:
            os.close(self.stdin)
            self.stdin = None

    def read_until(self, needle: str, timeout: float = 30) -> str:
        """Read standard output until it holds ``needle``; return all read so far."""
        deadline = time.monotonic() + timeout
        while needle not in self.seen.decode(errors="replace"):
            left = deadline - time.monotonic()
            assert left > 0, f"no {needle!r} in {self.seen!r}"
            ready, _, _ = select.select([self.out], [], [], left)
            if ready:
                data = os.read(self.out, 65536)
                assert data, f"ended without {needle!r}: {self.seen!r}"
                self.seen += data
        return self.seen.decode()


def start_cli(
    args: list[str], env: dict[str, str], *, hook: str = "", stdin: bool = False
) -> Running:
    """Start ``drillbook ARGS`` in a forked child and return at once (``stdin``: give it a
    pipe to type into, see :meth:`Running.write`)."""
    _command()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    in_r, in_w = os.pipe() if stdin else (None, None)
    pid = os.fork()
    if pid == 0:
        os.close(out_r)
        os.close(err_r)
        if in_w is not None:
            os.close(in_w)
        _child(args, env, out_w, err_w, hook, in_r)
    os.close(out_w)
    os.close(err_w)
    if in_r is not None:
        os.close(in_r)
    return Running(pid, out_r, err_r, stdin=in_w)


def finish(
    running: Running,
    *,
    kill_when: Callable[[str], bool] | None = None,
    kill_after: float | None = None,
    timeout: float = 60,
) -> Outcome:
    """Collect a child's output and exit status; ``kill_when(stdout so far)`` true or
    ``kill_after`` seconds passed kills it with SIGKILL at once."""
    pid, out_r, err_r = running.pid, running.out, running.err
    started = time.monotonic()
    running.close_stdin()
    chunks = {out_r: running.seen, err_r: b""}
    open_fds = [out_r, err_r]
    deadline = started + timeout
    killed = False
    while open_fds and time.monotonic() < deadline:
        wait = 0.5
        if kill_after is not None and not killed:
            left = started + kill_after - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                killed = True
            wait = max(0.0, min(wait, left))
        ready, _, _ = select.select(open_fds, [], [], wait)
        for fd in ready:
            data = os.read(fd, 65536)
            if not data:
                open_fds.remove(fd)
                continue
            chunks[fd] += data
            if fd == out_r and kill_when and not killed and kill_when(chunks[out_r].decode()):
                os.kill(pid, signal.SIGKILL)
                killed = True
    if open_fds:
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(out_r)
    os.close(err_r)
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    return Outcome(code, chunks[out_r].decode(), chunks[err_r].decode())


def run_cli(
    args: list[str],
    env: dict[str, str],
    *,
    hook: str = "",
    kill_when: Callable[[str], bool] | None = None,
    kill_after: float | None = None,
    timeout: float = 60,
) -> Outcome:
    """Run ``drillbook ARGS`` in a forked child until it ends (or is killed)."""
    running = start_cli(args, env, hook=hook)
    return finish(running, kill_when=kill_when, kill_after=kill_after, timeout=timeout)


def library_env(library: Path, url: str) -> dict[str, str]:
    env = {"DRILLBOOK_LIBRARY": str(library), "COLUMNS": "200", "NO_COLOR": "1"}
    if not url.startswith("sqlite"):
        env["DRILLBOOK_DATABASE_URL"] = url
    return env


TRACEBACK = re.compile(r"Traceback \(most recent call last\)")
