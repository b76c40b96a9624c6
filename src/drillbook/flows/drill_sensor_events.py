"""A drill's file, network and auditd events: kept with the run, read back for scoring.

These cross the drill domain (the ``sensor_events`` table) and telemetry (the shape the
sensor reads events into), so they live in a flow: the domain imports no adapter.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from drillbook.domain.drill.models import SensorEvent, TechniqueRun
from drillbook.domain.drill.service import get_run
from drillbook.telemetry.readers.fields import event_time
from drillbook.telemetry.readers.jsonl import SourcedEvent


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def store_sensor_events(
    session: Session, technique_run: TechniqueRun, events: Iterable[SourcedEvent]
) -> int:
    """Keep a technique's file, network and auditd events (times as ISO text)."""
    count = 0
    for item in events:
        fields = {key: _json_value(value) for key, value in item.event.items()}
        session.add(
            SensorEvent(
                drill_run_id=technique_run.drill_run_id,
                technique_run_id=technique_run.id,
                technique=technique_run.technique,
                logsource=item.logsource or "linux",
                also=list(item.also),
                utc_time=event_time(item.event),
                fields=fields,
            )
        )
        count += 1
    return count


def sensor_events(session: Session, run_id: str) -> list[tuple[SourcedEvent, str]]:
    """A run's file, network and auditd events with their technique run, oldest first."""
    run = get_run(session, run_id)
    query = (
        select(SensorEvent)
        .where(SensorEvent.drill_run_id == run.id)
        .order_by(SensorEvent.utc_time, SensorEvent.id)
    )
    return [
        (SourcedEvent(dict(row.fields), row.logsource, tuple(row.also)), row.technique_run_id)
        for row in session.scalars(query)
    ]
