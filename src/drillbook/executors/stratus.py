"""Stratus Red Team techniques, through the ``stratus`` command line.

Steps (Stratus's own vocabulary, https://stratus-red-team.cloud/user-guide/getting-started/):
``stratus warmup <id>`` creates the prerequisites, ``stratus detonate <id>`` runs the
attack, ``stratus revert <id>`` cancels a detonation's side effect where the technique
supports it, ``stratus cleanup <id>`` reverts (when needed) and removes the
prerequisites, and ``stratus status`` lists each technique's state (COLD, WARM,
DETONATED), which is read back after each step.

Correlation: Stratus reads a UUID from ``STRATUS_RED_TEAM_CORRELATION_ID`` (older releases:
``STRATUS_RED_TEAM_DETONATION_ID``, now deprecated) and puts it into the user agent of
every cloud API call it makes (``stratus-red-team_<uuid>``), which is what lands in
CloudTrail and friends. drillbook sets both variables to the drill run id written as a
UUID, so cloud audit events carry the drill id. (Source: DataDog/stratus-red-team,
``v2/pkg/stratus/runner/runner.go``, ``resolveCorrelationID``.)

A cloud target's ``profile`` is passed as ``AWS_PROFILE`` for AWS. No process telemetry
is recorded for cloud techniques: the evidence is in the cloud's audit log.
"""

from __future__ import annotations

import re
import shutil
import uuid
from typing import Any

from drillbook import clock
from drillbook.domain.drill.enums import TargetKind
from drillbook.domain.drill.plan import StratusTechnique, Target, Technique
from drillbook.errors import AdapterError
from drillbook.executors.base import (
    CORRELATION_ENV,
    Detonation,
    ExecutionContext,
    Executor,
    PreparedTechnique,
    Resources,
    technique_environ,
)
from drillbook.executors.process import ProcessResult, run_step
from drillbook.executors.safety import assess

CORRELATION_VARS = ("STRATUS_RED_TEAM_CORRELATION_ID", "STRATUS_RED_TEAM_DETONATION_ID")
STATES = ("COLD", "WARM", "DETONATED")
_STATUS_LINE = re.compile(r"([a-z0-9-]+(?:\.[a-z0-9-]+){2,})\b.*?\b(COLD|WARM|DETONATED)\b")
NOT_INSTALLED = (
    "stratus is not on the PATH; install Stratus Red Team "
    "(https://stratus-red-team.cloud/user-guide/getting-started/) to run cloud techniques"
)


def correlation_uuid(run_id: str) -> str:
    """The run id as the UUID Stratus expects (run ids are 32 hex digits)."""
    try:
        return str(uuid.UUID(hex=run_id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"drillbook:{run_id}"))


def stratus_env(run_id: str, target: Target) -> dict[str, str]:
    env = {CORRELATION_ENV: run_id}
    for name in CORRELATION_VARS:
        env[name] = correlation_uuid(run_id)
    if target.kind is TargetKind.CLOUD and target.profile and target.provider in (None, "aws"):
        env["AWS_PROFILE"] = target.profile
    return env


def parse_status(text: str) -> dict[str, str]:
    """``stratus status`` output (a table: ID, NAME, STATUS) as technique id -> state."""
    states: dict[str, str] = {}
    for line in text.splitlines():
        match = _STATUS_LINE.search(line)
        if match:
            states[match.group(1)] = match.group(2)
    return states


def _binary() -> str | None:
    return shutil.which("stratus")


def _combine(results: list[ProcessResult], argv: list[str]) -> ProcessResult:
    first, last = results[0], results[-1]
    failed = next((r for r in results if r.exit_code != 0), last)
    return ProcessResult(
        argv,
        last.pid,
        failed.exit_code,
        any(r.timed_out for r in results),
        any(r.aborted for r in results),
        first.started_at,
        last.ended_at,
        "".join(r.stdout for r in results),
        "".join(r.stderr for r in results),
        any(r.stdout_truncated for r in results),
        any(r.stderr_truncated for r in results),
        next((r.error for r in results if r.error), None),
    )


class StratusExecutor(Executor):
    name = "stratus"

    def prepare(self, entry: Technique, position: int, resources: Resources) -> PreparedTechnique:
        assert isinstance(entry, StratusTechnique)
        tactic = entry.stratus.split(".")[1] if entry.stratus.count(".") >= 2 else ""
        by_design = "impact technique" if tactic == "impact" else None
        return PreparedTechnique(
            position=position,
            technique=entry.stratus,
            name=entry.stratus,
            executor=self.name,
            command=f"stratus detonate {entry.stratus}",
            cleanup_command=f"stratus cleanup {entry.stratus}",
            assessment=assess(
                "", "stratus cleanup", network=entry.network, destructive_by_design=by_design
            ),
            not_runnable=None if _binary() else NOT_INSTALLED,
            expected_detections=list(entry.expected_detection),
            checks=list(entry.checks),
            timeout=entry.timeout_seconds(resources.safety.technique_timeout_seconds),
            details={
                "platform": entry.stratus.split(".")[0],
                "warmup": entry.warmup,
                "revert": entry.revert,
            },
        )

    def _run(
        self,
        args: list[str],
        env: dict[str, str],
        ctx_dir: Any,
        timeout: float,
        on_start: Any = None,
    ) -> ProcessResult:
        binary = _binary()
        if binary is None:
            raise AdapterError("stratus", " ".join(args), "not installed", NOT_INSTALLED)
        full = {**technique_environ(), **env}
        return run_step([binary, *args], env=full, cwd=ctx_dir, timeout=timeout, on_start=on_start)

    def status(self, env: dict[str, str], ctx_dir: Any) -> dict[str, str]:
        done = self._run(["status"], env, ctx_dir, 60.0)
        return parse_status(done.stdout) if done.exit_code == 0 else {}

    def detonate(
        self, prepared: PreparedTechnique, ctx: ExecutionContext, on_start: Any = None
    ) -> Detonation:
        env = stratus_env(ctx.run_id, ctx.target)
        results: list[ProcessResult] = []
        steps = [["warmup", prepared.technique]] if prepared.details.get("warmup", True) else []
        steps.append(["detonate", prepared.technique])
        if prepared.details.get("revert"):
            steps.append(["revert", prepared.technique])
        deadline = clock.monotonic() + prepared.timeout
        for args in steps:
            left = max(1.0, deadline - clock.monotonic())
            done = self._run(args, env, ctx.workdir, left, on_start)
            results.append(done)
            if done.exit_code != 0:
                break
        combined = _combine(results, ["stratus", "detonate", prepared.technique])
        state = self.status(env, ctx.workdir).get(prepared.technique)
        return Detonation(
            combined,
            f"stratus detonate {prepared.technique}",
            telemetry_note="telemetry not captured: cloud technique; look in the cloud audit "
            f"log for user agent stratus-red-team_{correlation_uuid(ctx.run_id)}",
            details={
                "stratus_state": state,
                "steps": [" ".join(a) for a in steps[: len(results)]],
                "correlation_uuid": correlation_uuid(ctx.run_id),
            },
        )

    def cleanup_payload(
        self, prepared: PreparedTechnique, ctx: ExecutionContext
    ) -> dict[str, Any] | None:
        return {
            "kind": "stratus",
            "technique": prepared.technique,
            "cwd": str(ctx.workdir),
            "env": stratus_env(ctx.run_id, ctx.target),
        }

    def run_cleanup(self, payload: dict[str, Any], timeout: float) -> ProcessResult:
        from pathlib import Path

        cwd = Path(payload.get("cwd") or ".")
        if not cwd.is_dir():
            cwd = Path.cwd()
        env = dict(payload.get("env", {}))
        done = self._run(["cleanup", payload["technique"]], env, cwd, timeout)
        state = self.status(env, cwd).get(payload["technique"])
        if state is not None:
            done.stdout += f"\n[drillbook] stratus status after cleanup: {state}\n"
        return done
