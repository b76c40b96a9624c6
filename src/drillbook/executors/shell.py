"""What the atomic and inline executors share: running shell text on a target.

A technique runs as ``<shell> -c '<command>' drillbook-drill-<run id>``: the shell's ``$0``
is the correlation marker, so it shows in the wrapper's command line and in the
``ParentCommandLine`` of every process the technique starts, and ``DRILLBOOK_DRILL_ID``
is in every process's environment. Locally it runs under the strace sensor when strace
works here; on an SSH target it runs through ``ssh -o BatchMode=yes`` (no sensor: the
result says telemetry was not captured).
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from drillbook.domain.drill.enums import TargetKind
from drillbook.domain.drill.plan import Check, Target
from drillbook.executors.base import (
    CORRELATION_ENV,
    Detonation,
    ExecutionContext,
    Executor,
    PreparedTechnique,
    technique_environ,
)
from drillbook.executors.process import ProcessResult, run_step, user_name
from drillbook.telemetry.process_events import RunnerProcess, build_events, command_line
from drillbook.telemetry.sensors import strace

PREREQ_TIMEOUT = 60.0


def ssh_argv(target: Target, remote: str) -> list[str]:
    argv = ["ssh", "-o", "BatchMode=yes"]
    if target.port:
        argv += ["-p", str(target.port)]
    host = f"{target.user}@{target.host}" if target.user else str(target.host)
    return [*argv, host, "--", remote]


def shell_argv(shell: str, text: str, label: str, target: Target, env: dict[str, str]) -> list[str]:
    if target.kind is TargetKind.SSH:
        remote = (
            f"{CORRELATION_ENV}={shlex.quote(env[CORRELATION_ENV])} "
            f"{shell} -c {shlex.quote(text)} {shlex.quote(label)}"
        )
        return ssh_argv(target, remote)
    return [shell, "-c", text, label]


class ShellExecutor(Executor):
    """Detonation and cleanup of shell text; subclasses only prepare."""

    def check_prerequisites(
        self, prepared: PreparedTechnique, ctx: ExecutionContext, *, get_prereqs: bool
    ) -> str | None:
        shell = prepared.shell or "sh"
        env = ctx.environment()
        for prereq in prepared.prerequisites:
            argv = shell_argv(shell, prereq.check, ctx.marker + "-prereq", ctx.target, env)
            done = run_step(argv, env=env, cwd=ctx.workdir, timeout=PREREQ_TIMEOUT)
            if done.exit_code == 0:
                continue
            if not get_prereqs or not prereq.get:
                hint = " (run with --get-prereqs to fetch it)" if prereq.get else ""
                return f"prerequisite not met: {prereq.description.strip()}{hint}"
            argv = shell_argv(shell, prereq.get, ctx.marker + "-getprereq", ctx.target, env)
            got = run_step(argv, env=env, cwd=ctx.workdir, timeout=PREREQ_TIMEOUT * 5)
            recheck = run_step(
                shell_argv(shell, prereq.check, ctx.marker + "-prereq", ctx.target, env),
                env=env,
                cwd=ctx.workdir,
                timeout=PREREQ_TIMEOUT,
            )
            if recheck.exit_code != 0:
                return (
                    f"prerequisite still not met after get_prereq_command: "
                    f"{prereq.description.strip()} (exit {got.exit_code})"
                )
        return None

    def detonate(
        self, prepared: PreparedTechnique, ctx: ExecutionContext, on_start: Any = None
    ) -> Detonation:
        assert prepared.command is not None
        shell = prepared.shell or "sh"
        env = ctx.environment()
        argv = shell_argv(shell, prepared.command, ctx.marker, ctx.target, env)
        if ctx.target.kind is not TargetKind.LOCAL:
            result = run_step(
                argv, env=env, cwd=ctx.workdir, timeout=prepared.timeout, on_start=on_start
            )
            return Detonation(
                result,
                command_line(argv),
                telemetry_note=(
                    "telemetry not captured: the process sensor runs on this host only"
                ),
            )
        if not ctx.use_sensor:
            result = run_step(
                argv, env=env, cwd=ctx.workdir, timeout=prepared.timeout, on_start=on_start
            )
            return Detonation(
                result,
                command_line(argv),
                telemetry_note="telemetry not captured: sensor switched off",
            )
        usable, why = strace.probe()
        if not usable:
            result = run_step(
                argv, env=env, cwd=ctx.workdir, timeout=prepared.timeout, on_start=on_start
            )
            return Detonation(
                result, command_line(argv), telemetry_note=f"telemetry not captured: {why}"
            )
        trace = ctx.workdir / f"trace-{ctx.technique_run_id}.txt"
        wrapped = strace.command(argv, trace)
        try:
            result = run_step(
                wrapped, env=env, cwd=ctx.workdir, timeout=prepared.timeout, on_start=on_start
            )
        except BaseException as exc:
            # keep what the sensor saw before the abort
            partial = getattr(exc, "result", None)
            if partial is not None:
                exc.detonation = self._with_events(  # type: ignore[attr-defined]
                    partial, argv, wrapped, trace, ctx
                )
            raise
        return self._with_events(result, argv, wrapped, trace, ctx)

    def _with_events(
        self,
        result: ProcessResult,
        argv: list[str],
        wrapped: list[str],
        trace: Path,
        ctx: ExecutionContext,
    ) -> Detonation:
        records = strace.parse_file(trace)
        runner = RunnerProcess(result.pid or 0, wrapped[0], command_line(wrapped))
        events = build_events(records, runner=runner, user=user_name(), cwd=ctx.workdir)
        trace.unlink(missing_ok=True)
        captured = bool(events)
        note = None if captured else "telemetry not captured: strace recorded no execve"
        return Detonation(result, command_line(argv), events, captured, note)

    def cleanup_payload(
        self, prepared: PreparedTechnique, ctx: ExecutionContext
    ) -> dict[str, Any] | None:
        target = ctx.target.model_dump(mode="json")
        return {
            "kind": "shell",
            "shell": prepared.shell or "sh",
            "command": prepared.cleanup_command,
            "label": ctx.marker + "-cleanup",
            "cwd": str(ctx.workdir),
            "target": target,
            "env": {CORRELATION_ENV: ctx.run_id},
        }

    def run_cleanup(self, payload: dict[str, Any], timeout: float) -> ProcessResult:
        return run_shell_cleanup(payload, timeout)


def run_shell_cleanup(payload: dict[str, Any], timeout: float) -> ProcessResult:

    from drillbook import clock

    target = Target.model_validate(payload.get("target") or {})
    env = {**technique_environ(), **payload.get("env", {})}
    command = payload.get("command")
    if not command:
        now = clock.now()
        return ProcessResult([], None, 0, False, False, now, now, "", "")
    cwd = Path(payload.get("cwd") or ".")
    if not cwd.is_dir():
        cwd = Path.cwd()
    argv = shell_argv(
        payload.get("shell", "sh"), command, payload.get("label", "cleanup"), target, env
    )
    return run_step(argv, env=env, cwd=cwd, timeout=timeout)


def evaluate_checks(checks: list[Check], result: ProcessResult) -> list[dict[str, Any]]:
    """Run the plan's ``checks`` against a detonation (before its cleanup)."""
    out: list[dict[str, Any]] = []
    for check in checks:
        if check.exit_code is not None:
            passed = result.exit_code == check.exit_code
            out.append(
                {
                    "check": f"exit_code == {check.exit_code}",
                    "passed": passed,
                    "detail": f"exit code {result.exit_code}",
                }
            )
        elif check.stdout_contains is not None:
            passed = check.stdout_contains in result.stdout
            out.append(
                {
                    "check": f"stdout contains {check.stdout_contains!r}",
                    "passed": passed,
                    "detail": "found" if passed else "not in the captured stdout",
                }
            )
        elif check.file_exists is not None:
            passed = Path(check.file_exists).exists()
            out.append(
                {
                    "check": f"file exists {check.file_exists}",
                    "passed": passed,
                    "detail": "exists" if passed else "missing",
                }
            )
    return out
