"""Running a drill plan end to end (the cleanups it owes: :mod:`drillbook.flows.drill_cleanup`).

Order of things, each step recorded before it happens:

1. load the plan and prepare every technique (nothing runs yet);
2. decide each technique against the safety profile: refused and not-runnable techniques
   are stored with the reason and never touch the machine. A local shell technique runs in
   the sandbox (on this host or, for an SSH target, on that host), which enforces the
   profile, so only its declarations can refuse it; where nothing contains it
   (``sandbox: none``, cloud techniques) the command-text checks refuse.
   A drill that needs the sandbox where the kernel refuses it does not start;
3. store the run, send the start notice (no notice, no drill);
4. for each allowed technique: check prerequisites, journal ``detonate`` (with the cleanup
   it will owe), detonate in its own process group under the sensor with a timeout,
   evaluate the plan's checks, store the events, journal ``cleanup``, run the cleanup with
   Ctrl-C/SIGTERM held;
5. Ctrl-C, SIGTERM or the drill's maximum duration stop the drill: the running technique's
   tree is killed, its cleanup runs, the rest are marked aborted. An unexpected error
   (an adapter, the sensor, the store) stops it the same way and is raised afterwards;
6. send the end notice.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drillbook import clock
from drillbook.config import atomics_path
from drillbook.domain.drill.enums import (
    CleanupOutcome,
    DrillStatus,
    JournalStatus,
    JournalStep,
    TechniqueStatus,
)
from drillbook.domain.drill.models import DrillRun, TechniqueRun
from drillbook.domain.drill.planfile import LoadedPlan, load_plan
from drillbook.domain.drill.service import store_events
from drillbook.errors import DrillbookError
from drillbook.executors import journal
from drillbook.executors.atomics import AtomicsFolder
from drillbook.executors.base import (
    Detonation,
    ExecutionContext,
    Executor,
    PreparedTechnique,
    Resources,
    load_executor,
    marker,
)
from drillbook.executors.process import (
    AbortRequested,
    OperatorAbort,
    ProcessResult,
    abort_on_signals,
    signals_deferred,
    user_name,
)
from drillbook.executors.shell import evaluate_checks
from drillbook.flows.drill_abort import pending_abort, settle_abort_requests
from drillbook.flows.drill_cleanup import (
    Progress,
    Settled,
    quiet,
    run_owed_cleanup,
    settle_pending,
)
from drillbook.flows.drill_decide import check_sandbox, decide, is_contained
from drillbook.flows.drill_sensor_events import store_sensor_events
from drillbook.notify.base import DrillNotice, NoNotifier, Notifier
from drillbook.storage.base import new_id
from drillbook.storage.engine import Store

__all__ = [
    "Prepared",
    "Settled",
    "decide",
    "prepare_plan",
    "resolve_atomics",
    "run_drill",
    "settle_pending",
]


def resolve_atomics(atomics: Path | None, library: Path | None) -> Path:
    """``--atomics``, else drillbook.yaml's ``atomics_path``, else DRILLBOOK_ATOMICS_PATH,
    else ``$HOME/AtomicRedTeam/atomics``."""
    if atomics is not None:
        return atomics
    if library is not None and (library / "drillbook.yaml").is_file():
        from drillbook.library.loader import load_program

        configured = load_program(library).atomics_path
        if configured:
            path = Path(configured).expanduser()
            return path if path.is_absolute() else library / path
    return atomics_path()


@dataclass
class Prepared:
    loaded: LoadedPlan
    techniques: list[tuple[PreparedTechnique, Executor]]
    decisions: list[tuple[TechniqueStatus, str | None]]


def prepare_plan(
    plan_path: Path, *, atomics: Path | None, library: Path | None, get_prereqs: bool = False
) -> Prepared:
    """Load and resolve a plan and decide every technique; runs nothing."""
    loaded = load_plan(plan_path)
    folder = AtomicsFolder(resolve_atomics(atomics, library))
    resources = Resources(folder, loaded.safety, loaded.plan.target, get_prereqs)
    executors: dict[str, Executor] = {}
    techniques = []
    decisions: list[tuple[TechniqueStatus, str | None]] = []
    for position, entry in enumerate(loaded.techniques, start=1):
        executor = executors.setdefault(entry.kind, load_executor(entry.kind))
        prepared = executor.prepare(entry, position, resources)
        techniques.append((prepared, executor))
        decisions.append(decide(prepared, loaded, contained=is_contained(executor, loaded)))
    return Prepared(loaded, techniques, decisions)


def _new_technique_run(
    run_id: str, prepared: PreparedTechnique, status: TechniqueStatus, reason: str | None
) -> TechniqueRun:
    return TechniqueRun(
        id=new_id(),
        drill_run_id=run_id,
        position=prepared.position,
        technique=prepared.technique,
        name=prepared.name,
        executor=prepared.executor,
        status=status.value,
        reason=reason,
        command=prepared.command,
        cleanup_command=prepared.cleanup_command,
        timed_out=False,
        stdout="",
        stderr="",
        ran=False,
        checks=[],
        telemetry_captured=False,
        cleanup_outcome=(CleanupOutcome.NOT_NEEDED.value),
        expected_detections=[d.model_dump(mode="json") for d in prepared.expected_detections],
        details={**prepared.details, "timeout_seconds": prepared.timeout},
    )


def running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


class _Runner:
    """One drill run in progress (the state the steps share)."""

    def __init__(
        self,
        store: Store,
        prepared: Prepared,
        notifier: Notifier,
        progress: Progress,
        use_sensor: bool,
        get_prereqs: bool,
    ) -> None:
        self.store = store
        self.prepared = prepared
        self.notifier = notifier
        self.progress = progress
        self.use_sensor = use_sensor
        self.get_prereqs = get_prereqs
        self.run_id = new_id()
        self.sandbox = check_sandbox(prepared)
        self.workdir = Path(tempfile.mkdtemp(prefix=f"drillbook-{self.run_id[:8]}-"))
        # the sensor's traces and the sandbox's reports: hidden from contained techniques
        self.private = self.workdir / "private"
        self.private.mkdir(mode=0o700)
        self.cwd = self.workdir / "work"
        self.cwd.mkdir()
        self.technique_ids: list[str] = []
        self.abort_reason: str | None = None
        self.started_mono = clock.monotonic()
        limit = prepared.loaded.safety.max_duration_delta()
        self.max_seconds = limit.total_seconds() if limit else None

    # -- records -------------------------------------------------------------------------
    def create(self) -> None:
        loaded = self.prepared.loaded
        with self.store.session() as session:
            run = DrillRun(
                id=self.run_id,
                plan_name=loaded.plan.name,
                team=loaded.plan.team,
                plan_path=str(loaded.path),
                target=loaded.plan.target.describe(),
                status=DrillStatus.RUNNING.value,
                started_at=clock.now(),
                runner_pid=os.getpid(),
                runner_host=socket.gethostname(),
                operator=user_name(),
                safety=loaded.safety.model_dump(mode="json"),
            )
            session.add(run)
            for (prepared, _), (status, reason) in zip(
                self.prepared.techniques, self.prepared.decisions, strict=True
            ):
                row = _new_technique_run(self.run_id, prepared, status, reason)
                session.add(row)
                self.technique_ids.append(row.id)

    def update(self, technique_run_id: str, **values: Any) -> None:
        with self.store.session() as session:
            row = session.get(TechniqueRun, technique_run_id)
            assert row is not None
            for key, value in values.items():
                setattr(row, key, value)

    def notice(self, phase: str) -> DrillNotice:
        loaded = self.prepared.loaded
        with self.store.session() as session:
            run = session.get(DrillRun, self.run_id)
            assert run is not None
            summary = dict(Counter(t.status for t in run.technique_runs))
            return DrillNotice(
                phase="start" if phase == "start" else "end",
                run_id=self.run_id,
                plan_name=loaded.plan.name,
                target=run.target,
                at=clock.now(),
                marker=marker(self.run_id),
                audience=list(loaded.safety.notification),
                blast_radius=loaded.safety.blast_radius,
                status=run.status,
                summary=summary,
                abort_reason=run.abort_reason,
            )

    def finish_run(self, status: DrillStatus) -> None:
        with self.store.session() as session:
            run = session.get(DrillRun, self.run_id)
            assert run is not None
            run.status = status.value
            run.ended_at = clock.now()
            run.abort_reason = self.abort_reason

    # -- the drill -------------------------------------------------------------------------
    def remaining(self) -> float | None:
        if self.max_seconds is None:
            return None
        return self.max_seconds - (clock.monotonic() - self.started_mono)

    def run(self) -> str:
        self.create()
        loaded = self.prepared.loaded
        if not loaded.safety.contained:
            self.progress(
                "warning: sandbox: none, so techniques run uncontained with this account's "
                "rights; only their command text was checked, and text checks can be evaded"
            )
            if running_as_root() and not loaded.safety.elevation_allowed:
                self.progress(
                    "warning: running as root without a sandbox, so every technique has "
                    "root's rights although the safety profile does not allow elevation"
                )
        try:
            self.notifier.send(self.notice("start"))
        except BaseException as exc:  # an adapter error, a bug, or Ctrl-C while sending
            what = _error_text(exc) if isinstance(exc, Exception) else type(exc).__name__
            self.abort_reason = f"start notice failed, nothing was run: {what}"
            with signals_deferred():
                self._abort_rest(0)
                self.finish_run(DrillStatus.ABORTED)
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise
        status = DrillStatus.COMPLETED
        failure: Exception | None = None
        try:
            with abort_on_signals():
                for index, ((prepared, executor), (decision, _)) in enumerate(
                    zip(self.prepared.techniques, self.prepared.decisions, strict=True)
                ):
                    if decision is not TechniqueStatus.PENDING:
                        self.progress(f"{prepared.technique}: {decision.value}")
                        continue
                    requested = pending_abort(self.store, self.run_id)
                    if requested:
                        raise AbortRequested(requested)
                    left = self.remaining()
                    if left is not None and left <= 0:
                        self.abort_reason = "drill duration exceeded the safety profile's limit"
                        self._abort_rest(index)
                        status = DrillStatus.ABORTED
                        break
                    self.technique(index, prepared, executor, left)
                    if self.abort_reason:
                        self._abort_rest(index + 1)
                        status = DrillStatus.ABORTED
                        break
        except (OperatorAbort, KeyboardInterrupt) as exc:
            if isinstance(exc, AbortRequested):
                self.abort_reason = self.abort_reason or exc.reason
            self.abort_reason = self.abort_reason or f"operator abort ({_signal_name(exc)})"
            status = DrillStatus.ABORTED
            self._settle_interrupted()
        except Exception as exc:
            # a bug or an adapter failure between a detonation and its cleanup must not
            # skip the cleanup, nor leave the run marked completed
            failure = exc
            self.abort_reason = self.abort_reason or f"stopped by an error: {_error_text(exc)}"
            status = DrillStatus.ABORTED
            self._settle_interrupted()
        finally:
            with signals_deferred():  # a second Ctrl-C must not leave the run "running"
                self.finish_run(status)
                settle_abort_requests(self.store, self.run_id)
            shutil.rmtree(self.workdir, ignore_errors=True)
        try:
            self.notifier.send(self.notice("end"))
        finally:
            if failure is not None:
                raise failure  # the error that stopped the drill, not the notice's
        return self.run_id

    def _settle_interrupted(self) -> None:
        """Run the cleanups an interrupted technique still owes (now, not at the next
        ``cleanup --pending``), then mark the techniques not reached as aborted."""
        with signals_deferred():  # already stopping: further signals change nothing
            settle_pending(
                self.store,
                run_id=self.run_id,
                force=True,
                skip_attempted=True,
                progress=self.progress,
            )
            self._abort_rest(0)

    def _abort_rest(self, start: int) -> None:
        with self.store.session() as session:
            for row_id in self.technique_ids[start:]:
                row = session.get(TechniqueRun, row_id)
                if row is not None and row.status in ("pending", "running"):
                    row.status = TechniqueStatus.ABORTED.value
                    row.reason = row.reason or f"not run: {self.abort_reason}"

    def technique(
        self, index: int, prepared: PreparedTechnique, executor: Executor, left: float | None
    ) -> None:
        row_id = self.technique_ids[index]
        ctx = ExecutionContext(
            self.run_id,
            row_id,
            self.prepared.loaded.plan.target,
            self.cwd,
            self.use_sensor,
            self.sandbox if is_contained(executor, self.prepared.loaded) else None,
            self.private,
            self.private / f"scratch-{row_id}",
            lambda: pending_abort(self.store, self.run_id),
        )
        try:
            self._technique_in(ctx, index, prepared, executor, left)
        finally:
            shutil.rmtree(self.private / f"scratch-{row_id}", ignore_errors=True)

    def _technique_in(
        self,
        ctx: ExecutionContext,
        index: int,
        prepared: PreparedTechnique,
        executor: Executor,
        left: float | None,
    ) -> None:
        row_id = self.technique_ids[index]
        unmet = executor.check_prerequisites(prepared, ctx, get_prereqs=self.get_prereqs)
        if unmet:
            self.update(row_id, status=TechniqueStatus.NOT_RUNNABLE.value, reason=unmet)
            self.progress(f"{prepared.technique}: not runnable ({unmet})")
            return
        capped = left is not None and left < prepared.timeout
        timeout = max(0.5, left) if capped and left is not None else prepared.timeout
        payload = executor.cleanup_payload(prepared, ctx) or {}
        entry = journal.begin(
            self.store,
            drill_run_id=self.run_id,
            technique_run_id=row_id,
            step=JournalStep.DETONATE,
            executor=executor.name,
            payload={
                "cleanup": payload,
                "technique": prepared.technique,
                "timeout": prepared.timeout,
            },
        )
        self.update(row_id, status=TechniqueStatus.RUNNING.value, started_at=clock.now())
        self.progress(f"{prepared.technique}: detonating ({prepared.name})")

        def on_start(pid: int) -> None:
            journal.annotate(self.store, entry, pgid=pid)
            self.update(row_id, pid=pid)

        prepared.timeout = timeout
        interrupted: BaseException | None = None
        try:
            detonation = executor.detonate(prepared, ctx, on_start)
        except (OperatorAbort, KeyboardInterrupt) as exc:
            interrupted = exc
            detonation = getattr(exc, "detonation", None) or Detonation(
                getattr(exc, "result", None) or _empty_result(),
                prepared.command or "",
                telemetry_note="telemetry not captured: aborted",
            )
        result = detonation.result
        existing = detonation.details.get("existing_paths")
        checks = (
            evaluate_checks(
                prepared.checks, result, set(existing) if isinstance(existing, list) else None
            )
            if interrupted is None
            else []
        )
        ran = (
            interrupted is None
            and not result.timed_out
            and result.exit_code == 0
            and all(c["passed"] for c in checks)
        )
        if interrupted is not None:
            status = TechniqueStatus.ABORTED
        elif result.timed_out:
            status = TechniqueStatus.TIMEOUT
        elif ran:
            status = TechniqueStatus.SUCCEEDED
        else:
            status = TechniqueStatus.FAILED
        reason = result.error
        for key in ("leftover_note", "volume_exceeded"):
            if detonation.details.get(key):
                reason = "; ".join(filter(None, [reason, str(detonation.details[key])]))
        if detonation.details.get("volume_exceeded"):
            ran = False
            status = TechniqueStatus.FAILED if status is TechniqueStatus.SUCCEEDED else status
        if result.timed_out:
            reason = f"killed with its process tree after {timeout:g} s"
            if capped:
                self.abort_reason = "drill duration exceeded the safety profile's limit"
        journal.finish(
            self.store,
            entry,
            JournalStatus.DONE if result.error is None else JournalStatus.FAILED,
            f"{status.value}, exit code {result.exit_code}",
        )
        self.update(
            row_id,
            status=status.value,
            reason=reason,
            ended_at=result.ended_at,
            started_at=result.started_at,
            command=detonation.command,
            pid=result.pid,
            exit_code=result.exit_code,
            timed_out=result.timed_out,
            stdout=result.stdout,
            stderr=result.stderr,
            ran=ran,
            checks=checks,
            telemetry_captured=detonation.telemetry_captured,
            telemetry_note=detonation.telemetry_note,
            details={
                **prepared.details,
                "timeout_seconds": timeout,
                **detonation.details,
                "stdout_truncated": result.stdout_truncated,
                "stderr_truncated": result.stderr_truncated,
            },
        )
        if detonation.events or detonation.activity:
            with self.store.session() as session:
                row = session.get(TechniqueRun, row_id)
                assert row is not None
                store_events(session, row, detonation.events)
                store_sensor_events(session, row, detonation.activity)
        self.progress(
            f"{prepared.technique}: {status.value}"
            + (f" (exit {result.exit_code})" if result.exit_code is not None else "")
        )
        if detonation.details.get("leftover_note"):
            self.progress(f"{prepared.technique}: {detonation.details['leftover_note']}")
        self.cleanup(row_id, prepared, executor, payload)
        if interrupted is not None:
            raise interrupted

    def cleanup(
        self, row_id: str, prepared: PreparedTechnique, executor: Executor, payload: dict[str, Any]
    ) -> None:
        with signals_deferred() as held:
            outcome = run_owed_cleanup(
                self.store,
                self.run_id,
                row_id,
                executor,
                payload,
                has_cleanup=bool(prepared.cleanup_command),
            )
        self.progress(f"{prepared.technique}: cleanup {outcome.value}")
        if held and self.abort_reason is None:
            raise OperatorAbort("SIGINT" if held[0] == 2 else "SIGTERM")


def _signal_name(exc: BaseException) -> str:
    return exc.signal_name if isinstance(exc, OperatorAbort) else "SIGINT"


def _error_text(exc: Exception) -> str:
    """Our own errors are written to be shown; others only by type (their text may hold
    a connection string or a token)."""
    return str(exc) if isinstance(exc, DrillbookError) else type(exc).__name__


def _empty_result() -> ProcessResult:
    now = clock.now()
    return ProcessResult([], None, None, False, True, now, now, "", "")


def run_drill(
    store: Store,
    plan_path: Path,
    *,
    atomics: Path | None = None,
    library: Path | None = None,
    get_prereqs: bool = False,
    notifier: Notifier | None = None,
    use_sensor: bool = True,
    progress: Progress | None = None,
) -> str:
    """Run the plan at ``plan_path``; return the drill run id."""
    prepared = prepare_plan(plan_path, atomics=atomics, library=library, get_prereqs=get_prereqs)
    runner = _Runner(
        store, prepared, notifier or NoNotifier(), progress or quiet, use_sensor, get_prereqs
    )
    return runner.run()
