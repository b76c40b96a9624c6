"""``drillbook drill abort``: the abort anyone can pull, from any terminal.

The safety profile's human abort condition ("any human reports unexpected impact") needs
a mechanism besides the operator's Ctrl-C, which only works in the operator's terminal.
A request is a journal entry (step ``abort``) naming who pulled it. The runner asks for
one while each step runs (every :data:`~drillbook.executors.process.ABORT_POLL_SECONDS`)
and between techniques; on a request it kills the running technique, runs its cleanup,
marks the rest aborted and ends the run ``aborted`` with who pulled it. Anything that
reaches the store can pull it: another terminal, another host, the web app.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from drillbook import clock
from drillbook.domain.drill import service
from drillbook.domain.drill.enums import DrillStatus, JournalStatus, JournalStep
from drillbook.domain.drill.models import DrillRun, JournalEntry
from drillbook.errors import ConflictError, NotFoundError
from drillbook.storage.base import new_id
from drillbook.storage.engine import Store


@dataclass
class AbortRequest:
    run_id: str
    plan_name: str
    by: str
    reason: str


def _running_run(store: Store, run_id: str | None) -> DrillRun:
    with store.session() as session:
        if run_id:
            run = service.get_run(session, run_id)
        else:
            running = list(
                session.scalars(
                    select(DrillRun)
                    .where(DrillRun.status == DrillStatus.RUNNING.value)
                    .order_by(DrillRun.started_at.desc())
                )
            )
            if not running:
                raise NotFoundError("no drill is running; `drillbook drill list` shows the runs")
            if len(running) > 1:
                ids = ", ".join(r.id[:10] for r in running)
                raise ConflictError(f"{len(running)} drills are running ({ids}); name one")
            run = running[0]
        if run.status != DrillStatus.RUNNING.value:
            raise ConflictError(f"drill {run.id} is not running (it is {run.status})")
        session.expunge(run)
        return run


def request_abort(
    store: Store,
    run_id: str | None,
    *,
    by: str,
    why: str | None,
    via: str = "with `drill abort`",
) -> AbortRequest:
    """Record an abort request for the running drill ``run_id`` (the only running drill
    when None); ``via`` says where it was pulled (the terminal, the web app)."""
    run = _running_run(store, run_id)
    reason = f"aborted by {by} {via}" + (f": {why}" if why else "")
    with store.session() as session:
        session.add(
            JournalEntry(
                id=new_id(),
                drill_run_id=run.id,
                technique_run_id="",
                step=JournalStep.ABORT.value,
                status=JournalStatus.STARTED.value,
                executor="",
                payload={"by": by, "reason": reason},
                created_at=clock.now(),
            )
        )
    return AbortRequest(run.id, run.plan_name, by, reason)


def pending_abort(store: Store, run_id: str) -> str | None:
    """The reason of an abort requested for ``run_id`` and not yet acted on."""
    with store.session() as session:
        entry = session.scalars(
            select(JournalEntry)
            .where(
                JournalEntry.drill_run_id == run_id,
                JournalEntry.step == JournalStep.ABORT.value,
                JournalEntry.status == JournalStatus.STARTED.value,
            )
            .order_by(JournalEntry.created_at)
            .limit(1)
        ).first()
        return None if entry is None else str(entry.payload.get("reason") or "aborted")


def settle_abort_requests(store: Store, run_id: str) -> None:
    """Mark ``run_id``'s abort requests as acted on."""
    with store.session() as session:
        for entry in session.scalars(
            select(JournalEntry).where(
                JournalEntry.drill_run_id == run_id,
                JournalEntry.step == JournalStep.ABORT.value,
                JournalEntry.status == JournalStatus.STARTED.value,
            )
        ):
            entry.status = JournalStatus.DONE.value
            entry.finished_at = clock.now()
            entry.detail = "the runner stopped the drill"
