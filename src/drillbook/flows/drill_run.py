"""Running a drill plan end to end, and settling the cleanups a crashed run still owes.

Order of things, each step recorded before it happens:

1. load the plan and prepare every technique (nothing runs yet);
2. decide each technique against the safety profile: refused and not-runnable techniques
   are stored with the reason and never touch the machine;
3. store the run, send the start notice (no notice, no drill);
4. for each allowed technique: check prerequisites, journal ``detonate`` (with the cleanup
   it will owe), detonate in its own process group under the sensor with a timeout,
   evaluate the plan's checks, journal ``cleanup``, run the cleanup with Ctrl-C/SIGTERM
   held, store the events;
5. Ctrl-C, SIGTERM or the drill's maximum duration stop the drill: the running technique's
   tree is killed, its cleanup runs, the rest are marked aborted;
6. send the end notice.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections import Counter
from collections.abc import Callable
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
    OperatorAbort,
    ProcessResult,
    abort_on_signals,
    environ_of,
    kill_tree,
    process_alive,
    signals_deferred,
    user_name,
)
from drillbook.executors.safety import refusal
from drillbook.executors.shell import evaluate_checks
from drillbook.notify.base import DrillNotice, NoNotifier, Notifier
from drillbook.storage.base import new_id
from drillbook.storage.engine import Store

CLEANUP_TIMEOUT = 120.0
Progress = Callable[[str], None]


def _quiet(_message: str) -> None:
    return None


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
        decisions.append(decide(prepared, loaded))
    return Prepared(loaded, techniques, decisions)


def decide(prepared: PreparedTechnique, loaded: LoadedPlan) -> tuple[TechniqueStatus, str | None]:
    if prepared.not_runnable:
        return TechniqueStatus.NOT_RUNNABLE, prepared.not_runnable
    if prepared.assessment is not None:
        why = refusal(prepared.assessment, loaded.safety)
        if why:
            return TechniqueStatus.REFUSED, f"refused by the safety profile: {why}"
    return TechniqueStatus.PENDING, None


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
        self.workdir = Path(tempfile.mkdtemp(prefix=f"drillbook-{self.run_id[:8]}-"))
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
        try:
            self.notifier.send(self.notice("start"))
        except DrillbookError as exc:
            self.abort_reason = f"start notice failed, nothing was run: {exc}"
            self._abort_rest(0)
            self.finish_run(DrillStatus.ABORTED)
            raise
        status = DrillStatus.COMPLETED
        try:
            with abort_on_signals():
                for index, ((prepared, executor), (decision, _)) in enumerate(
                    zip(self.prepared.techniques, self.prepared.decisions, strict=True)
                ):
                    if decision is not TechniqueStatus.PENDING:
                        self.progress(f"{prepared.technique}: {decision.value}")
                        continue
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
            self.abort_reason = self.abort_reason or f"operator abort ({_signal_name(exc)})"
            status = DrillStatus.ABORTED
            # a signal between a detonate entry and its cleanup: settle it now, not later
            with signals_deferred():
                settle_pending(
                    self.store,
                    run_id=self.run_id,
                    force=True,
                    skip_attempted=True,
                    progress=self.progress,
                )
            self._abort_rest(0)
        finally:
            self.finish_run(status)
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.notifier.send(self.notice("end"))
        return self.run_id

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
            self.run_id, row_id, self.prepared.loaded.plan.target, self.workdir, self.use_sensor
        )
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
        checks = evaluate_checks(prepared.checks, result) if interrupted is None else []
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
        if detonation.events:
            with self.store.session() as session:
                row = session.get(TechniqueRun, row_id)
                assert row is not None
                store_events(session, row, detonation.events)
        self.progress(
            f"{prepared.technique}: {status.value}"
            + (f" (exit {result.exit_code})" if result.exit_code is not None else "")
        )
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


def _empty_result() -> ProcessResult:
    now = clock.now()
    return ProcessResult([], None, None, False, True, now, now, "", "")


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
    result = executor.run_cleanup(payload, timeout)
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
    )
    return outcome


def _set_cleanup(
    store: Store,
    technique_run_id: str,
    outcome: CleanupOutcome,
    exit_code: int | None,
    output: str | None,
) -> None:
    with store.session() as session:
        row = session.get(TechniqueRun, technique_run_id)
        if row is not None:
            row.cleanup_outcome = outcome.value
            row.cleanup_exit_code = exit_code
            row.cleanup_output = output


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
        store, prepared, notifier or NoNotifier(), progress or _quiet, use_sensor, get_prereqs
    )
    return runner.run()


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
    (process ids get reused). ``skip_attempted`` leaves out detonations whose cleanup was
    already tried: the runner uses it to settle only what a signal interrupted.
    """
    say = progress or _quiet
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
        if (
            isinstance(pgid, int)
            and environ_of(pgid).get("DRILLBOOK_DRILL_ID") == entry.drill_run_id
        ):
            kill_tree(pgid)
            say(f"{entry.payload.get('technique')}: killed the leftover process group {pgid}")
        executor = load_executor(entry.executor)
        payload = entry.payload.get("cleanup") or {}
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
