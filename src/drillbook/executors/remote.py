"""Techniques on an SSH target: the same sandbox and the same sensor, on the remote host.

Each step opens a short session over ``ssh -o BatchMode=yes``: a private folder made with
``mktemp -d`` on the remote host (the sensor's trace, the supervisor's report, the
technique's scratch; hidden inside the sandbox as locally), a probe of the remote
``bwrap`` and ``strace``, then the step itself: the very command line a local step runs
(report trampoline, strace, bwrap, supervisor), built for the remote host's home, user
and architecture. The remote shell writes its pid first, so a timeout or an abort kills
the remote process group too, not only the local ssh client. Afterwards the report and
the trace are read back over ssh and the folder is removed.

The remote host needs ``bwrap`` (and ``strace`` for telemetry), as this one does; where
its kernel refuses the namespaces the drill refuses to start, as locally.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drillbook.domain.drill.plan import Target
from drillbook.executors import sandbox
from drillbook.executors.process import ProcessResult, run_step
from drillbook.executors.sandbox import RemoteHost, SandboxPolicy
from drillbook.telemetry.process_events import RunnerProcess, build_events, command_line
from drillbook.telemetry.sensors import strace

if TYPE_CHECKING:
    from drillbook.executors.shell import StepOutcome

SSH_TIMEOUT = 60.0
_PROBE = (
    "umask 077; d=$(mktemp -d /tmp/drillbook-remote-XXXXXX) || exit 1; "
    'echo "$d"; echo "$HOME"; id -u; id -un; uname -m; '
    "if bwrap --ro-bind / / --unshare-all --die-with-parent --cap-drop ALL true 2>/dev/null; "
    "then echo sandbox-ok; else echo sandbox-no; fi; "
    "if strace -f -qq -o /dev/null -- true 2>/dev/null; then echo strace-ok; "
    "else echo strace-no; fi; "
    "if strace --pidns-translation -qq -o /dev/null -- true 2>/dev/null; then echo pidns-ok; "
    "else echo pidns-no; fi"
)


def _control_dir() -> Path:
    """A private folder for ssh's shared connections (one handshake for a step's several
    ssh calls)."""
    folder = Path(tempfile.gettempdir()) / f"drillbook-ssh-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    if folder.stat().st_uid != os.getuid() or folder.stat().st_mode & 0o077:
        raise RemoteUnavailable(f"{folder} is not private to this account; remove it")
    return folder


def ssh_prefix(target: Target) -> list[str]:
    """``ssh`` with the target's port, key and options, up to and including ``--``."""
    argv = ["ssh", "-o", "BatchMode=yes"]
    argv += ["-o", "ControlMaster=auto", "-o", f"ControlPath={_control_dir()}/%C"]
    argv += ["-o", "ControlPersist=10"]
    if target.port:
        argv += ["-p", str(target.port)]
    if target.identity_file:
        argv += ["-i", target.identity_file, "-o", "IdentitiesOnly=yes"]
    for option in target.ssh_options:
        argv += ["-o", option]
    host = f"{target.user}@{target.host}" if target.user else str(target.host)
    return [*argv, host, "--"]


def _ssh(
    target: Target, command: str, data: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*ssh_prefix(target), command],
        input=data,
        capture_output=True,
        timeout=SSH_TIMEOUT,
        check=False,
    )


@dataclass
class RemoteSession:
    """One step's private folder on the remote host, and what the host can do."""

    target: Target
    private: str
    host: RemoteHost
    user: str
    sandbox_ok: bool
    strace_ok: bool
    translates_pids: bool

    def close(self) -> None:
        if self.private.startswith("/tmp/drillbook-remote-"):
            _ssh(self.target, f"rm -rf {shlex.quote(self.private)}")


class RemoteUnavailable(sandbox.SandboxUnavailable):
    """The SSH target cannot be reached, or cannot run the sandbox."""


def open_session(target: Target) -> RemoteSession:
    try:
        done = _ssh(target, _PROBE)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RemoteUnavailable(f"cannot reach {target.describe()}: {exc}") from None
    lines = done.stdout.decode("utf-8", "replace").splitlines()
    if done.returncode != 0 or len(lines) < 8:
        detail = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no answer"])[-1]
        raise RemoteUnavailable(
            f"cannot open a session on {target.describe()} ({detail}); check that "
            "`ssh -o BatchMode=yes` logs in without a password"
        )
    private, home, uid, user, machine, box, tracer, pidns = lines[:8]
    return RemoteSession(
        target,
        private,
        RemoteHost(home or "/root", int(uid), machine),
        user,
        box == "sandbox-ok",
        tracer == "strace-ok",
        pidns == "pidns-ok",
    )


def probe(target: Target) -> None:
    """Raise :class:`RemoteUnavailable` when ``target`` cannot run contained techniques."""
    session = open_session(target)
    try:
        if not session.sandbox_ok:
            raise RemoteUnavailable(
                f"{target.describe()} cannot run the sandbox (bwrap missing or its kernel "
                f"refuses the namespaces): {sandbox.ENABLE_HINT}"
            )
    finally:
        session.close()


def run_remote(
    inner: list[str],
    *,
    target: Target,
    policy: SandboxPolicy,
    env: dict[str, str],
    local_env: dict[str, str],
    cwd: Path,
    timeout: float,
    name: str,
    sensor: bool = False,
    checks: list[str] | None = None,
    on_start: Any = None,
    abort_requested: Any = None,
) -> StepOutcome:
    """Run ``inner`` contained on ``target``."""
    from drillbook.executors.shell import StepOutcome

    session = open_session(target)
    private = Path(session.private)
    scratch = private / f"scratch-{name}"
    try:
        wrapped = sandbox.wrap(
            inner,
            policy,
            private=private,
            scratch=scratch,
            env={},
            report_name=name,
            checks=checks,
            remote=session.host,
        )
        argv = wrapped.argv
        trace: Path | None = None
        note = None
        if sensor and session.strace_ok:
            trace = private / f"trace-{name}.txt"
            argv = strace.command(argv, trace, "strace", translate=session.translates_pids)
        elif sensor:
            note = f"telemetry not captured: strace cannot trace on {target.describe()}"
        argv = sandbox.with_report_fd(argv, wrapped)
        if wrapped.seccomp_path is not None:
            program = sandbox.seccomp_program(session.host.machine) or b""
            _ssh(target, f"cat > {shlex.quote(str(wrapped.seccomp_path))}", program)
        dirs = [
            scratch / "tmp" / Path(sandbox.SANDBOX_WORKDIR).name,
            *(scratch / d for d in ("var-tmp", "home")),
        ]
        pidfile = private / f"pid-{name}"
        variables = [f"{k}={v}" for k, v in env.items()]
        remote = (
            f"mkdir -p {' '.join(shlex.quote(str(d)) for d in dirs)} && "
            f"echo $$ > {shlex.quote(str(pidfile))} && "
            f"exec {shlex.join(['env', *variables, *argv])}"
        )
        try:
            result = run_step(
                [*ssh_prefix(target), remote],
                env=local_env,
                cwd=cwd,
                timeout=timeout,
                on_start=on_start,
                abort_requested=abort_requested,
            )
        except BaseException as exc:
            _kill_remote(target, pidfile)
            partial = getattr(exc, "result", None)
            if partial is not None:
                exc.outcome = _finish(  # type: ignore[attr-defined]
                    StepOutcome, partial, session, wrapped.report_path, trace, inner, note
                )
            raise
        _kill_remote(target, pidfile)
        return _finish(StepOutcome, result, session, wrapped.report_path, trace, inner, note)
    finally:
        session.close()


def _kill_remote(target: Target, pidfile: Path) -> None:
    """SIGKILL the step's remote process group (the sandbox dies with it)."""
    path = shlex.quote(str(pidfile))
    _ssh(target, f'p=$(cat {path} 2>/dev/null) && kill -KILL -- "-$p" 2>/dev/null; true')


def _finish(
    outcome_type: type[StepOutcome],
    result: ProcessResult,
    session: RemoteSession,
    report_path: Path,
    trace: Path | None,
    inner: list[str],
    note: str | None,
) -> StepOutcome:
    fetched = _ssh(session.target, f"cat {shlex.quote(str(report_path))} 2>/dev/null; true")
    report = sandbox.parse_report(fetched.stdout.decode("utf-8", "replace"))
    if result.exit_code == 255 and not report.received and result.error is None:
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        result.error = f"ssh to {session.target.describe()} failed: {detail}"
    elif not report.received and result.error is None and not (result.timed_out or result.aborted):
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        result.error = f"the sandbox did not start the step: {detail}"
    events = []
    if trace is not None:
        text = _ssh(session.target, f"cat {shlex.quote(str(trace))} 2>/dev/null; true").stdout
        records = strace.parse_lines(text.decode("utf-8", "replace").splitlines())
        runner = RunnerProcess(0, "ssh", command_line(ssh_prefix(session.target)))
        events = build_events(
            records,
            runner=runner,
            user=session.user,
            cwd=Path(sandbox.SANDBOX_WORKDIR),
            technique_argv=inner,
        )
        if not any(not e.is_runner for e in events):
            note = "telemetry not captured: strace recorded no execve"
    return outcome_type(result, events, note, report)
