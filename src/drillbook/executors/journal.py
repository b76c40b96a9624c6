"""The drill journal: a row committed to the store *before* each step.

Before a detonation starts, a ``detonate`` entry is committed holding everything needed
to clean up later without the plan or the atomics (the rendered cleanup command, its
shell, environment and working directory, or the Stratus technique id) and, once the
process exists, its process group id. Before a cleanup starts, a ``cleanup`` entry is
committed. Each entry is finished (``done``/``failed``) after its step.

So if the runner dies at any point (SIGKILL, power loss), a technique whose ``detonate``
entry has no finished ``cleanup`` entry still owes its cleanup, and
``drillbook drill cleanup --pending`` can run it (:func:`owed_cleanups`). Each write is
its own short transaction: a journal that only lands on success would be useless.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from drillbook import clock
from drillbook.domain.drill.enums import JournalStatus, JournalStep
from drillbook.domain.drill.models import DrillRun, JournalEntry
from drillbook.storage.base import new_id
from drillbook.storage.engine import Store


def begin(
    store: Store,
    *,
    drill_run_id: str,
    technique_run_id: str,
    step: JournalStep,
    executor: str,
    payload: dict[str, Any],
) -> str:
    """Commit a ``started`` entry for ``step``; returns its id."""
    entry_id = new_id()
    with store.session() as session:
        session.add(
            JournalEntry(
                id=entry_id,
                drill_run_id=drill_run_id,
                technique_run_id=technique_run_id,
                step=step.value,
                status=JournalStatus.STARTED.value,
                executor=executor,
                payload=payload,
                created_at=clock.now(),
            )
        )
    return entry_id


def annotate(store: Store, entry_id: str, **values: Any) -> None:
    """Add keys to an entry's payload (the process group id once the process exists)."""
    with store.session() as session:
        entry = session.get(JournalEntry, entry_id)
        if entry is not None:
            entry.payload = {**entry.payload, **values}


def finish(store: Store, entry_id: str, status: JournalStatus, detail: str | None = None) -> None:
    with store.session() as session:
        entry = session.get(JournalEntry, entry_id)
        if entry is not None:
            entry.status = status.value
            entry.finished_at = clock.now()
            entry.detail = detail


@dataclass(frozen=True)
class OwedCleanup:
    """A detonation whose cleanup has not completed, and the run it belongs to."""

    detonation: JournalEntry
    run: DrillRun | None
    cleanup_attempted: bool = False

    @property
    def technique_run_id(self) -> str:
        return self.detonation.technique_run_id


def owed_cleanups(store: Store, run_id: str | None = None) -> list[OwedCleanup]:
    """Detonations without a ``done`` cleanup entry, oldest first."""
    with store.session() as session:
        query = select(JournalEntry).order_by(JournalEntry.created_at, JournalEntry.id)
        if run_id is not None:
            query = query.where(JournalEntry.drill_run_id == run_id)
        entries = list(session.scalars(query))
        cleanups = [e for e in entries if e.step == JournalStep.CLEANUP.value]
        settled = {e.technique_run_id for e in cleanups if e.status == JournalStatus.DONE.value}
        attempted = {e.technique_run_id for e in cleanups}
        owed = []
        for entry in entries:
            if entry.step != JournalStep.DETONATE.value or entry.technique_run_id in settled:
                continue
            run = session.get(DrillRun, entry.drill_run_id)
            owed.append(OwedCleanup(entry, run, entry.technique_run_id in attempted))
        return owed
