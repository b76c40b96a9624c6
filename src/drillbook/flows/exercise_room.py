"""Turn an observer's gap into a finding: crosses the exercise and finding domains."""

from __future__ import annotations

from sqlalchemy.orm import Session

from drillbook.domain.exercise.models import Exercise
from drillbook.domain.exercise.room import link_finding, observation
from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.service import create_finding
from drillbook.domain.program.models import SlaPolicy
from drillbook.errors import StateError


def gap_to_finding(
    session: Session,
    exercise: Exercise,
    event_id: int,
    *,
    severity: str,
    owner: str | None,
    author: str | None,
    sla: SlaPolicy | None = None,
) -> Finding:
    """Open a finding from observer note ``event_id`` (tagged as a gap on the way), owned
    by ``owner`` on the exercise's team, and remember which finding it became."""
    note = observation(exercise, event_id)
    if note.data.get("finding"):
        raise StateError(f"note {event_id} already became {note.data['finding']}")
    finding = create_finding(
        session,
        description=note.text or "",
        severity=severity,
        source="exercise",
        source_ref=f"{exercise.label} note {event_id}",
        owner=(owner or "").strip() or None,
        team=exercise.team,
        exercise_id=exercise.id,
        author=author,
        sla=sla,
    )
    link_finding(exercise, event_id, finding.id)
    return finding
