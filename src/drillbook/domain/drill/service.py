"""Drill records: plain functions over a session (the session is always the first argument).

The detection check (another module) calls :func:`get_run` and :func:`process_events`;
their shapes are a contract: ``process_events`` returns Sigma ``process_creation`` field
dicts (``UtcTime`` an aware datetime) plus ``drill_run_id``, ``technique_run_id``,
``technique`` and ``is_runner``; :func:`sensor_events` returns the file, network and
auditd events of the techniques' own processes with their technique run.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from drillbook.domain.drill.models import DrillRun, ProcessEvent, TechniqueRun
from drillbook.errors import NotFoundError


class ObservedProcess(Protocol):
    """One process-creation event as the drill records it (Sigma's field names).

    A protocol, not the sensors' own class, so the domain does not import an adapter;
    :class:`drillbook.telemetry.process_events.ProcessCreation` has this shape.
    """

    @property
    def UtcTime(self) -> datetime: ...
    @property
    def ProcessId(self) -> int: ...
    @property
    def ParentProcessId(self) -> int | None: ...
    @property
    def Image(self) -> str: ...
    @property
    def CommandLine(self) -> str: ...
    @property
    def ParentImage(self) -> str | None: ...
    @property
    def ParentCommandLine(self) -> str | None: ...
    @property
    def User(self) -> str: ...
    @property
    def CurrentDirectory(self) -> str | None: ...
    @property
    def is_runner(self) -> bool: ...


def get_run(session: Session, run_id: str) -> DrillRun:
    """The drill run ``run_id`` (a unique prefix of at least 6 characters also works)."""
    run = session.get(DrillRun, run_id)
    if run is not None:
        return run
    if len(run_id) >= 6:
        matches = list(
            session.scalars(
                select(DrillRun).where(DrillRun.id.startswith(run_id, autoescape=True)).limit(2)
            )
        )
        if len(matches) == 1:
            return matches[0]
    raise NotFoundError(f"no drill run {run_id!r}; `drillbook drill list` shows the runs")


def list_runs(session: Session, limit: int = 50) -> list[DrillRun]:
    query = select(DrillRun).order_by(DrillRun.started_at.desc()).limit(limit)
    return list(session.scalars(query))


def count_runs(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(DrillRun)) or 0)


def event_dict(row: ProcessEvent) -> dict[str, Any]:
    return {
        "UtcTime": row.utc_time,
        "Image": row.image,
        "CommandLine": row.command_line,
        "ParentImage": row.parent_image,
        "ParentCommandLine": row.parent_command_line,
        "ProcessId": row.process_id,
        "ParentProcessId": row.parent_process_id,
        "User": row.user,
        "CurrentDirectory": row.current_directory,
        "drill_run_id": row.drill_run_id,
        "technique_run_id": row.technique_run_id,
        "technique": row.technique,
        "is_runner": row.is_runner,
    }


def process_events(
    session: Session, run_id: str, technique_run_id: str | None = None, include_runner: bool = False
) -> list[dict[str, Any]]:
    """The process-creation events of a run (or of one technique in it), oldest first.

    The runner's own wrapper processes are left out unless ``include_runner``.
    """
    run = get_run(session, run_id)
    query = select(ProcessEvent).where(ProcessEvent.drill_run_id == run.id)
    if technique_run_id is not None:
        query = query.where(ProcessEvent.technique_run_id == technique_run_id)
    if not include_runner:
        query = query.where(ProcessEvent.is_runner.is_(False))
    query = query.order_by(ProcessEvent.utc_time, ProcessEvent.id)
    return [event_dict(row) for row in session.scalars(query)]


def store_events(
    session: Session, technique_run: TechniqueRun, events: Iterable[ObservedProcess]
) -> int:
    count = 0
    for event in events:
        session.add(
            ProcessEvent(
                drill_run_id=technique_run.drill_run_id,
                technique_run_id=technique_run.id,
                technique=technique_run.technique,
                utc_time=event.UtcTime,
                process_id=event.ProcessId,
                parent_process_id=event.ParentProcessId,
                image=event.Image,
                command_line=event.CommandLine,
                parent_image=event.ParentImage,
                parent_command_line=event.ParentCommandLine,
                user=event.User,
                current_directory=event.CurrentDirectory,
                is_runner=event.is_runner,
            )
        )
        count += 1
    return count
