"""Export a drill run as ATTiRe JSON, the log format VECTR imports.

ATTiRe ("Attack Tool Timing and Reporting", SecurityRiskAdvisors/ATTiRe README, format
version 1.1) is one document: ``attire-version``; ``execution-data`` (``execution-command``,
``execution-id``, ``execution-source``, ``execution-category`` {``name``,
``abbreviation``}, ``target`` {``host``, ``ip``, ``path``, ``user``}, ``time-generated``);
and ``procedures``, each with ``procedure-name``, ``procedure-description``,
``procedure-id`` {``type``, ``id``}, ``mitre-technique-id``, ``order`` and ``steps``, each
step with ``command``, ``executor``, ``order``, ``output`` [{``content``, ``level``,
``type``}], ``time-start`` and ``time-stop``. The detonation step's command is the command
line as it ran (``sh -c '<command>'``); the cleanup step has its own start and stop times
and its own stdout and stderr.

Only techniques that were detonated become procedures (VECTR reads a procedure as "this
was executed"); refused and not-runnable ones are listed under the extension key
``drillbook`` beside the standard keys, with everything else ATTiRe has no field for
(exit codes, timeouts, cleanup outcome, checks, telemetry).
"""

from __future__ import annotations

import socket
import uuid
from datetime import datetime
from typing import Any

from drillbook.clock import ensure_utc
from drillbook.domain.drill.models import DrillRun, TechniqueRun
from drillbook.domain.drill.plan import ATTACK_ID

ATTIRE_VERSION = "1.1"
_CATEGORIES = {
    "atomic": ("Atomic Red Team", "ART"),
    "stratus": ("Stratus Red Team", "SRT"),
    "inline": ("drillbook inline command", "DBI"),
}


def _zulu(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    moment = ensure_utc(moment)  # the "Z" must be true whatever zone the value came in
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _mitre_id(row: TechniqueRun) -> str | None:
    candidate = row.details.get("attack_technique") or row.technique.rsplit("-", 1)[0]
    return candidate if isinstance(candidate, str) and ATTACK_ID.match(candidate) else None


def _when(value: object, fallback: datetime | None) -> str | None:
    if isinstance(value, str):
        try:
            return _zulu(datetime.fromisoformat(value))
        except ValueError:
            return _zulu(fallback)
    return _zulu(fallback)


def _console(stdout: str | None, stderr: str | None) -> list[dict[str, str]]:
    output = []
    if stdout:
        output.append({"content": stdout, "level": "STDOUT", "type": "console"})
    if stderr:
        output.append({"content": stderr, "level": "STDERR", "type": "console"})
    return output


def procedure_id(row: TechniqueRun, plan_name: str) -> dict[str, str]:
    """An atomic's GUID; for anything else a UUID derived from the plan, the technique's
    position and name and its command, so each inline technique has its own id, and the
    same technique keeps it across runs (VECTR tracks procedures by id)."""
    guid = row.details.get("guid")
    if guid:
        return {"type": "guid", "id": str(guid)}
    seed = f"drillbook:{plan_name}:{row.position}:{row.name}:{row.command or ''}"
    return {"type": "guid", "id": str(uuid.uuid5(uuid.NAMESPACE_URL, seed))}


def _procedure(row: TechniqueRun, order: int, plan_name: str = "") -> dict[str, Any]:
    output = _console(row.stdout, row.stderr)
    steps = [
        {
            "command": row.command or "",
            "executor": str(row.details.get("executor_name") or row.executor).upper(),
            "order": 1,
            "output": output,
            "time-start": _zulu(row.started_at),
            "time-stop": _zulu(row.ended_at),
        }
    ]
    if row.cleanup_command and row.cleanup_outcome in ("done", "failed"):
        details = row.details
        if "cleanup_stdout" in details or "cleanup_stderr" in details:
            cleanup_output = _console(details.get("cleanup_stdout"), details.get("cleanup_stderr"))
        else:
            cleanup_output = _console(row.cleanup_output, None)
        steps.append(
            {
                "command": row.cleanup_command,
                "executor": str(row.details.get("executor_name") or row.executor).upper(),
                "order": 2,
                "output": cleanup_output,
                "time-start": _when(details.get("cleanup_started_at"), row.ended_at),
                "time-stop": _when(details.get("cleanup_ended_at"), row.ended_at),
            }
        )
    return {
        "procedure-name": row.name,
        "procedure-description": str(row.details.get("description") or ""),
        "procedure-id": procedure_id(row, plan_name),
        "mitre-technique-id": _mitre_id(row),
        "order": order,
        "steps": steps,
    }


def _record(row: TechniqueRun) -> dict[str, Any]:
    return {
        "technique": row.technique,
        "name": row.name,
        "status": row.status,
        "reason": row.reason,
        "pid": row.pid,
        "exit_code": row.exit_code,
        "timed_out": row.timed_out,
        "ran": row.ran,
        "checks": row.checks,
        "cleanup_outcome": row.cleanup_outcome,
        "cleanup_exit_code": row.cleanup_exit_code,
        "telemetry_captured": row.telemetry_captured,
        "telemetry_note": row.telemetry_note,
        "expected_detections": row.expected_detections,
    }


def to_attire(run: DrillRun) -> dict[str, Any]:
    """The ATTiRe document for ``run``."""
    detonated = [r for r in run.technique_runs if r.started_at is not None and r.command]
    kinds = {r.executor for r in run.technique_runs}
    name, abbreviation = (
        _CATEGORIES.get(next(iter(kinds)), ("drillbook", "DB"))
        if len(kinds) == 1
        else ("drillbook drill", "DB")
    )
    return {
        "attire-version": ATTIRE_VERSION,
        "execution-data": {
            "execution-command": f"drillbook drill run {run.plan_path}",
            "execution-id": run.id,
            "execution-source": "drillbook",
            "execution-category": {"name": name, "abbreviation": abbreviation},
            "target": {
                "host": run.runner_host or socket.gethostname(),
                "ip": "",
                "path": run.target,
                "user": run.operator,
            },
            "time-generated": _zulu(run.ended_at or run.started_at),
        },
        "procedures": [
            _procedure(row, i, run.plan_name) for i, row in enumerate(detonated, start=1)
        ],
        "drillbook": {
            "plan": run.plan_name,
            "status": run.status,
            "abort_reason": run.abort_reason,
            "started_at": _zulu(run.started_at),
            "ended_at": _zulu(run.ended_at),
            "techniques": [_record(r) for r in run.technique_runs],
        },
    }
