"""Cleanups owed by drill runs: running one under its journal entry, and settling those a
crashed (or interrupted) run still owes.

A cleanup is journalled before it starts and its outcome stored on the technique run, so
the runner (:mod:`drillbook.flows.drill_run`) and ``drillbook drill cleanup --pending``
use the same two functions: :func:`run_owed_cleanup` and :func:`settle_pending`.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drillbook import clock
from drillbook.domain.drill.enums import (
    CleanupOutcome,
    DrillStatus,
    JournalStatus,
    JournalStep,
    TechniqueStatus,
)
from drillbook.domain.drill.models import DrillRun, TechniqueRun
from drillbook.errors import ConfigError, DrillbookError
from drillbook.executors import journal
from drillbook.executors.base import CORRELATION_ENV, Executor, load_executor
from drillbook.executors.process import environ_of, kill_marked, kill_tree, process_alive
from drillbook.storage.engine import Store

CLEANUP_TIMEOUT = 120.0
Progress = Callable[[str], None]


def quiet(_message: str) -> None:
    """A progress callback that says nothing."""
    return None


def run_owed_cleanup(
    store: Store,
    run_id: str,
    technique_run_id: str,
    executor: Executor,
    payload: dict[str, Any],
    *,
    has_cleanup: bool,
    timeout: float = CLEANUP_TIMEOUT,
) -> CleanupOutcome:
    """Journal and run one cleanup; store its outcome on the technique run."""
    entry = journal.begin(
        store,
        drill_run_id=run_id,
        technique_run_id=technique_run_id,
        step=JournalStep.CLEANUP,
        executor=executor.name,
        payload=payload,
    )
    if not has_cleanup:
        journal.finish(store, entry, JournalStatus.DONE, "the technique has no cleanup")
        _set_cleanup(store, technique_run_id, CleanupOutcome.NONE, None, None)
        return CleanupOutcome.NONE
    try:
        result = executor.run_cleanup(payload, timeout)
    except DrillbookError as exc:
        # e.g. the stratus binary is gone: the cleanup stays owed (its entry is not done)
        # and says why, and the cleanups after it still run
        journal.finish(store, entry, JournalStatus.FAILED, str(exc))
        _set_cleanup(store, technique_run_id, CleanupOutcome.FAILED, None, str(exc))
        return CleanupOutcome.FAILED
    ok = result.exit_code == 0
    outcome = CleanupOutcome.DONE if ok else CleanupOutcome.FAILED
    detail = result.error or ("timed out" if result.timed_out else f"exit code {result.exit_code}")
    journal.finish(store, entry, JournalStatus.DONE if ok else JournalStatus.FAILED, detail)
    _set_cleanup(
        store,
        technique_run_id,
        outcome,
        result.exit_code,
        (result.stdout + result.stderr)[:65536] or detail,
        {
            "cleanup_started_at": result.started_at.isoformat(),
            "cleanup_ended_at": result.ended_at.isoformat(),
            "cleanup_command_as_run": " ".join(result.argv[-3:]) if result.argv else None,
            "cleanup_stdout": result.stdout,
            "cleanup_stderr": result.stderr,
        },
    )
    return outcome


def _set_cleanup(
    store: Store,
    technique_run_id: str,
    outcome: CleanupOutcome,
    exit_code: int | None,
    output: str | None,
    details: dict[str, Any] | None = None,
) -> None:
    with store.session() as session:
        row = session.get(TechniqueRun, technique_run_id)
        if row is not None:
            row.cleanup_outcome = outcome.value
            row.cleanup_exit_code = exit_code
            row.cleanup_output = output
            if details:
                row.details = {**(row.details or {}), **details}


@dataclass
class Settled:
    run_id: str
    technique_run_id: str
    technique: str
    outcome: str
    detail: str


def settle_pending(
    store: Store,
    *,
    run_id: str | None = None,
    force: bool = False,
    skip_attempted: bool = False,
    progress: Progress | None = None,
) -> list[Settled]:
    """Run the cleanups crashed runs still owe (``drill cleanup --pending``).

    A run whose runner process is still alive on this host is left alone (it will clean
    up itself) unless ``force``. A detonation's process group that survived its runner is
    killed first, but only when its leader still carries the run's DRILLBOOK_DRILL_ID
    (process ids get reused), and so is any process still carrying the technique run's
    DRILLBOOK_TECHNIQUE_RUN_ID (one that left the group, or outlived its leader).
    ``skip_attempted`` leaves out detonations whose cleanup was already tried: the runner
    uses it to settle only what a signal or an error interrupted.
    """
    say = progress or quiet
    settled: list[Settled] = []
    host = socket.gethostname()
    for owed in journal.owed_cleanups(store, run_id):
        run = owed.run
        entry = owed.detonation
        if skip_attempted and owed.cleanup_attempted:
            continue
        if (
            run is not None
            and not force
            and run.status == DrillStatus.RUNNING.value
            and run.runner_host == host
            and run.runner_pid not in (None, os.getpid())
            and run.runner_pid is not None
            and process_alive(run.runner_pid)
        ):
            say(
                f"{entry.payload.get('technique')}: skipped, run {run.id} is still running "
                f"(runner pid {run.runner_pid}); use --force to clean up anyway"
            )
            continue
        pgid = entry.payload.get("pgid")
        if isinstance(pgid, int) and environ_of(pgid).get(CORRELATION_ENV) == entry.drill_run_id:
            kill_tree(pgid)
            say(f"{entry.payload.get('technique')}: killed the leftover process group {pgid}")
        # the group leader may be gone while processes it started live on
        leftovers = kill_marked(entry.technique_run_id)
        if leftovers:
            say(
                f"{entry.payload.get('technique')}: killed {len(leftovers)} leftover "
                f"process(es) of the detonation"
            )
        payload = entry.payload.get("cleanup") or {}
        try:
            executor = load_executor(entry.executor)
        except ConfigError as exc:  # its plugin was uninstalled: still owed, say so
            technique = str(entry.payload.get("technique"))
            settled.append(
                Settled(entry.drill_run_id, entry.technique_run_id, technique, "failed", str(exc))
            )
            say(f"{technique}: cleanup failed ({exc})")
            continue
        outcome = run_owed_cleanup(
            store,
            entry.drill_run_id,
            entry.technique_run_id,
            executor,
            payload,
            has_cleanup=bool(payload.get("command") or payload.get("kind") == "stratus"),
        )
        with store.session() as session:
            row = session.get(TechniqueRun, entry.technique_run_id)
            if row is not None and row.status in ("pending", "running"):
                row.status = TechniqueStatus.ABORTED.value
                row.reason = "interrupted during the detonation; cleanup settled from the journal"
                row.ended_at = row.ended_at or clock.now()
            stored_run = session.get(DrillRun, entry.drill_run_id)
            if stored_run is not None and stored_run.status == DrillStatus.RUNNING.value:
                stored_run.status = DrillStatus.CRASHED.value
                stored_run.ended_at = clock.now()
                stored_run.abort_reason = "the runner died; cleanups settled by cleanup --pending"
                for other in stored_run.technique_runs:
                    if other.status in ("pending", "running"):
                        other.status = TechniqueStatus.ABORTED.value
                        other.reason = other.reason or "not run: the runner died"
        technique = str(entry.payload.get("technique"))
        settled.append(
            Settled(
                entry.drill_run_id,
                entry.technique_run_id,
                technique,
                outcome.value,
                f"cleanup {outcome.value}",
            )
        )
        say(f"{technique}: cleanup {outcome.value}")
    return settled
