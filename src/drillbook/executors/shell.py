"""What the atomic and inline executors share: running shell text on a target.

A technique runs as ``<shell> -c '<command>'``, exactly as the atomic or the plan wrote it
(no marker is added to its command line: that broke ``CommandLine|endswith`` rules). On
this host it runs inside the sandbox (:mod:`drillbook.executors.sandbox`) unless the
profile says ``sandbox: none``, and under the strace sensor, which wraps the sandbox from
outside and writes its trace to a folder the technique cannot see. Correlation is by
process tree (the sensor traced the sandbox) and by ``DRILLBOOK_DRILL_ID`` in every
process's environment. On an SSH target it runs through ``ssh -o BatchMode=yes`` (no
sensor: the result says telemetry was not captured).
"""

from __future__ import annotations

import shlex
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drillbook.domain.drill.enums import TargetKind
from drillbook.domain.drill.plan import Check, Target
from drillbook.executors import sandbox
from drillbook.executors.base import (
    CORRELATION_ENV,
    Detonation,
    ExecutionContext,
    Executor,
    PreparedTechnique,
    technique_environ,
)
from drillbook.executors.process import TECHNIQUE_ENV, ProcessResult, run_step, user_name
from drillbook.executors.sandbox import SandboxPolicy, SandboxReport
from drillbook.telemetry.process_events import (
    ProcessCreation,
    RunnerProcess,
    build_events,
    command_line,
)
from drillbook.telemetry.readers.jsonl import SourcedEvent
from drillbook.telemetry.sensors import strace
from drillbook.telemetry.sensors.netmeter import NetworkMeter
from drillbook.telemetry.strace_events import technique_scope, trace_events

PREREQ_TIMEOUT = 60.0


def ssh_argv(target: Target, remote: str) -> list[str]:
    argv = ["ssh", "-o", "BatchMode=yes"]
    if target.port:
        argv += ["-p", str(target.port)]
    host = f"{target.user}@{target.host}" if target.user else str(target.host)
    return [*argv, host, "--", remote]


def shell_argv(shell: str, text: str, target: Target, env: dict[str, str]) -> list[str]:
    """The technique's own command line (through ssh for a remote target)."""
    if target.kind is TargetKind.SSH:
        remote = (
            f"{CORRELATION_ENV}={shlex.quote(env[CORRELATION_ENV])} {shell} -c {shlex.quote(text)}"
        )
        return ssh_argv(target, remote)
    return [shell, "-c", text]


@dataclass
class StepOutcome:
    """One local step: its result, the events the sensor saw, the sandbox's report."""

    result: ProcessResult
    events: list[ProcessCreation] = field(default_factory=list)
    sensor_note: str | None = None
    report: SandboxReport | None = None
    network_bytes: int | None = None  # measured when network is allowed with a volume cap
    # file, network and auditd events of the technique's own process tree
    activity: list[SourcedEvent] = field(default_factory=list)

    @property
    def existing(self) -> set[str] | None:
        return None if self.report is None else self.report.existing


def run_local(
    inner: list[str],
    *,
    policy: SandboxPolicy | None,
    private: Path,
    cwd: Path,
    scratch: Path | None = None,
    env: dict[str, str],
    timeout: float,
    name: str,
    sensor: bool = False,
    checks: list[str] | None = None,
    on_start: Any = None,
    abort_requested: Any = None,
) -> StepOutcome:
    """Run ``inner`` on this host: in the sandbox (unless ``policy`` is None) and under
    the sensor (when asked and strace works). The sensor wraps the sandbox from outside."""
    argv, run_env, run_cwd = inner, env, cwd
    report_path: Path | None = None
    wrapped: sandbox.SandboxCommand | None = None
    if policy is not None:
        wrapped = sandbox.wrap(
            inner,
            policy,
            private=private,
            scratch=sandbox.make_scratch(scratch or private / f"scratch-{name}"),
            env=env,
            report_name=name,
            checks=checks,
        )
        argv, run_env, run_cwd, report_path = (
            wrapped.argv,
            wrapped.env,
            private,
            wrapped.report_path,
        )
    trace: Path | None = None
    note: str | None = None
    meter: NetworkMeter | None = None
    measure = policy is not None and policy.network and policy.scratch_bytes is not None
    if sensor:
        usable, why = strace.probe()
        if usable:
            trace = private / f"trace-{name}.txt"
            argv = strace.command(argv, trace, network=measure)
            if measure and policy is not None:
                meter = NetworkMeter(trace, policy.scratch_bytes)
        else:
            note = f"telemetry not captured: {why}"
    if wrapped is not None:
        argv = sandbox.with_report_fd(argv, wrapped)

    def finish(result: ProcessResult) -> StepOutcome:
        report = sandbox.read_report(report_path) if report_path is not None else None
        if report_path is not None:
            report_path.unlink(missing_ok=True)
            unstarted = report is not None and not report.received and result.error is None
            if unstarted and not (result.timed_out or result.aborted):
                detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
                result.error = f"the sandbox did not start the step: {detail}"
        events: list[ProcessCreation] = []
        activity: list[SourcedEvent] = []
        sensor_note = note
        sent = None
        if meter is not None:
            sent = meter.read()
            limit = meter.limit
            if limit is not None and sent > limit and not result.stopped:
                result.stopped = (
                    f"sent {sent} bytes over the network, more than "
                    f"max_data_volume_simulated ({limit} bytes)"
                )
        if trace is not None:
            records = strace.parse_file(trace)
            trace.unlink(missing_ok=True)
            runner = RunnerProcess(result.pid or 0, argv[0], command_line(argv))
            start_dir = Path(sandbox.SANDBOX_WORKDIR) if policy is not None else cwd
            events = build_events(
                records, runner=runner, user=user_name(), cwd=start_dir, technique_argv=inner
            )
            # the sandbox's own setup and supervisor are left out, as for process_creation
            activity = trace_events(
                records, user=user_name(), cwd=start_dir, keep=technique_scope(records, inner)
            )
            if not any(not e.is_runner for e in events):
                sensor_note = "telemetry not captured: strace recorded no execve"
        return StepOutcome(result, events, sensor_note, report, sent, activity)

    try:
        result = run_step(
            argv,
            env=run_env,
            cwd=run_cwd,
            timeout=timeout,
            on_start=on_start,
            abort_requested=abort_requested,
            stop_when=meter.over_limit if meter is not None else None,
        )
    except BaseException as exc:
        partial = getattr(exc, "result", None)
        if partial is not None:
            exc.outcome = finish(partial)  # type: ignore[attr-defined]
        raise
    return finish(result)


class ShellExecutor(Executor):
    """Detonation and cleanup of shell text; subclasses only prepare."""

    def _step(
        self,
        ctx: ExecutionContext,
        shell: str,
        text: str,
        timeout: float,
        name: str,
        *,
        sensor: bool = False,
        checks: list[str] | None = None,
        on_start: Any = None,
    ) -> StepOutcome:
        env = ctx.environment()
        argv = shell_argv(shell, text, ctx.target, env)
        if ctx.target.kind is TargetKind.SSH and ctx.sandbox is not None:
            from drillbook.executors.remote import run_remote

            return run_remote(
                [shell, "-c", text],
                target=ctx.target,
                policy=ctx.sandbox,
                env={k: env[k] for k in (CORRELATION_ENV, TECHNIQUE_ENV) if k in env},
                local_env=env,
                cwd=ctx.workdir,
                timeout=timeout,
                name=name,
                sensor=sensor,
                checks=checks,
                on_start=on_start,
                abort_requested=ctx.abort_requested,
            )
        if ctx.target.kind is not TargetKind.LOCAL:
            result = run_step(
                argv,
                env=env,
                cwd=ctx.workdir,
                timeout=timeout,
                on_start=on_start,
                abort_requested=ctx.abort_requested,
            )
            return StepOutcome(
                result,
                sensor_note="telemetry not captured: the process sensor runs on this host only",
            )
        return run_local(
            argv,
            policy=ctx.sandbox,
            private=ctx.private_dir(),
            cwd=ctx.workdir,
            scratch=ctx.scratch,
            env=env,
            timeout=timeout,
            name=name,
            sensor=sensor,
            checks=checks,
            on_start=on_start,
            abort_requested=ctx.abort_requested,
        )

    def check_prerequisites(
        self, prepared: PreparedTechnique, ctx: ExecutionContext, *, get_prereqs: bool
    ) -> str | None:
        shell = prepared.shell or "sh"
        for number, prereq in enumerate(prepared.prerequisites, start=1):
            name = f"{ctx.technique_run_id}-prereq{number}"
            done = self._step(ctx, shell, prereq.check, PREREQ_TIMEOUT, name).result
            if done.exit_code == 0:
                continue
            if not get_prereqs or not prereq.get:
                hint = " (run with --get-prereqs to fetch it)" if prereq.get else ""
                return f"prerequisite not met: {prereq.description.strip()}{hint}"
            got = self._step(ctx, shell, prereq.get, PREREQ_TIMEOUT * 5, name + "-get").result
            recheck = self._step(ctx, shell, prereq.check, PREREQ_TIMEOUT, name).result
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
        argv = shell_argv(shell, prepared.command, ctx.target, env)
        if ctx.target.kind is TargetKind.SSH and ctx.sandbox is not None:
            argv = [shell, "-c", prepared.command]  # what ran on the remote host
        paths = [c.file_exists for c in prepared.checks if c.file_exists is not None]
        sensor = ctx.use_sensor and (ctx.target.kind is TargetKind.LOCAL or ctx.sandbox is not None)
        try:
            outcome = self._step(
                ctx,
                shell,
                prepared.command,
                prepared.timeout,
                ctx.technique_run_id,
                sensor=sensor,
                checks=paths,
                on_start=on_start,
            )
        except BaseException as exc:
            partial = getattr(exc, "outcome", None)
            if isinstance(partial, StepOutcome):
                exc.detonation = _detonation(partial, argv, ctx)  # type: ignore[attr-defined]
            raise
        return _detonation(outcome, argv, ctx)

    def cleanup_payload(
        self, prepared: PreparedTechnique, ctx: ExecutionContext
    ) -> dict[str, Any] | None:
        target = ctx.target.model_dump(mode="json")
        local = ctx.target.kind in (TargetKind.LOCAL, TargetKind.SSH)
        return {
            "kind": "shell",
            "shell": prepared.shell or "sh",
            "command": prepared.cleanup_command,
            "cwd": str(ctx.workdir),
            "target": target,
            "env": {CORRELATION_ENV: ctx.run_id},
            "sandbox": ctx.sandbox.payload() if ctx.sandbox is not None and local else None,
            "scratch": str(ctx.scratch) if ctx.scratch is not None else None,
        }

    def run_cleanup(self, payload: dict[str, Any], timeout: float) -> ProcessResult:
        return run_shell_cleanup(payload, timeout)


def _detonation(outcome: StepOutcome, argv: list[str], ctx: ExecutionContext) -> Detonation:
    details: dict[str, Any] = {}
    note = None if ctx.use_sensor else "telemetry not captured: sensor switched off"
    note = outcome.sensor_note or note
    if ctx.target.kind is not TargetKind.CLOUD:
        details["sandbox"] = ctx.sandbox.describe() if ctx.sandbox else "none (uncontained)"
    if outcome.report is not None:
        details["leftover_processes"] = outcome.report.leftovers
        if outcome.report.leftovers:
            details["leftover_note"] = sandbox.leftover_note(outcome.report.leftovers)
    if outcome.existing is not None:
        details["existing_paths"] = sorted(outcome.existing)
    if outcome.network_bytes is not None:
        details["network_bytes_sent"] = outcome.network_bytes
    if outcome.result.stopped:
        details["volume_exceeded"] = outcome.result.stopped
    if ctx.sandbox is not None and ctx.scratch is not None:
        used = sandbox.scratch_size(ctx.scratch)
        details["scratch_bytes"] = used
        limit = ctx.sandbox.scratch_bytes
        if limit is not None and used > limit:
            details["volume_exceeded"] = (
                f"left {used} bytes in its scratch, over max_data_volume_simulated ({limit} bytes)"
            )
    captured = any(not e.is_runner for e in outcome.events)
    return Detonation(
        outcome.result,
        command_line(argv),
        outcome.events,
        captured,
        note,
        details,
        activity=outcome.activity,
    )


def run_shell_cleanup(payload: dict[str, Any], timeout: float) -> ProcessResult:
    """Run a cleanup from its journal payload: contained as the detonation was."""
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
    argv = shell_argv(payload.get("shell", "sh"), command, target, env)
    policy_data = payload.get("sandbox")
    if target.kind is TargetKind.SSH and isinstance(policy_data, dict):
        from drillbook.executors.remote import run_remote

        shell = payload.get("shell", "sh")
        remote_env = {k: v for k, v in payload.get("env", {}).items()}
        return run_remote(
            [shell, "-c", command],
            target=target,
            policy=SandboxPolicy.from_payload(policy_data),
            env=remote_env,
            local_env=env,
            cwd=cwd,
            timeout=timeout,
            name="cleanup",
        ).result
    if target.kind is not TargetKind.LOCAL or not isinstance(policy_data, dict):
        return run_step(argv, env=env, cwd=cwd, timeout=timeout)
    sandbox.require_sandbox()
    private = Path(tempfile.mkdtemp(prefix="drillbook-cleanup-"))
    kept = payload.get("scratch")
    scratch = Path(kept) if isinstance(kept, str) and Path(kept).is_dir() else None
    try:
        return run_local(
            argv,
            policy=SandboxPolicy.from_payload(policy_data),
            private=private,
            cwd=cwd,
            scratch=scratch,
            env=env,
            timeout=timeout,
            name="cleanup",
        ).result
    finally:
        shutil.rmtree(private, ignore_errors=True)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


def evaluate_checks(
    checks: list[Check], result: ProcessResult, existing: set[str] | None = None
) -> list[dict[str, Any]]:
    """Run the plan's ``checks`` against a detonation (before its cleanup). A contained
    technique's ``file_exists`` was checked inside its sandbox (``existing``)."""
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
            if existing is not None:
                passed = check.file_exists in existing
            else:
                passed = Path(check.file_exists).exists()
            out.append(
                {
                    "check": f"file exists {check.file_exists}",
                    "passed": passed,
                    "detail": "exists" if passed else "missing",
                }
            )
    return out
