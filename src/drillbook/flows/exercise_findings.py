"""Findings documents in git: export an exercise's findings in the seed's shape, import
one back.

Import is idempotent: a finding already stored with the same values is left alone; one
stored with different values is reported as a conflict and not overwritten (the store and
the file disagree, and only a person can say which is right). The exercise a document
belongs to is matched by scenario and date, and created (as already reported) when the
store has never seen it, so a team can bring its old findings files in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.documents.validation import validate
from drillbook.documents.yaml_io import dump_text, load_mapping
from drillbook.domain.exercise.enums import ExerciseStatus
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.finding.documents import (
    FindingsDocument,
    document_path,
    entry_differences,
    finding_entry,
)
from drillbook.domain.finding.enums import FindingSource, FindingStatus
from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.service import (
    create_finding,
    format_id,
    list_findings,
    parse_id,
    set_status,
)
from drillbook.domain.program.models import SlaPolicy
from drillbook.domain.scenario.models import Scenario


@dataclass
class ImportResult:
    path: str
    exercise: str
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    exercise_created: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "exercise": self.exercise,
            "created": self.created,
            "unchanged": self.unchanged,
            "conflicts": self.conflicts,
            "exercise_created": self.exercise_created,
        }


def export_document(session: Session, exercise: Exercise) -> dict[str, Any]:
    """The exercise's findings document as YAML-ready data (seed keys first)."""
    document: dict[str, Any] = {
        "scenario": exercise.scenario_id,
        "date": exercise.run_date,
        "participants": list(exercise.participants),
        "findings": [finding_entry(f) for f in list_findings(session, exercise_id=exercise.id)],
        "next_actions": [str(a) for a in exercise.next_actions],
    }
    if exercise.team:
        document["team"] = exercise.team
    if exercise.next_tabletop:
        document["next_tabletop"] = exercise.next_tabletop
    return document


def export_text(session: Session, exercise: Exercise) -> tuple[str, str]:
    """(relative path, YAML text) of the exercise's findings document."""
    relative = document_path(exercise.scenario_id, exercise.run_date)
    text = f"# {relative}\n" + dump_text(export_document(session, exercise))
    return relative, text


def write_export(session: Session, exercise: Exercise, root: Path) -> Path:
    relative, text = export_text(session, exercise)
    target = root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def read_document(path: Path) -> FindingsDocument:
    """Load and validate; problems name ``path:line:column``."""
    return validate(FindingsDocument, load_mapping(path, "a findings document"), path)


def _exercise_for(
    session: Session, document: FindingsDocument, scenario: Scenario | None
) -> tuple[Exercise, bool]:
    found = session.scalars(
        select(Exercise)
        .where(Exercise.scenario_id == document.scenario, Exercise.run_date == document.date)
        .order_by(Exercise.id)
    ).first()
    if found is not None:
        return found, False
    now = clock.now()
    exercise = Exercise(
        scenario_id=document.scenario,
        title=scenario.title if scenario else document.scenario,
        team=document.team,
        status=str(ExerciseStatus.REPORTED),
        run_date=document.date,
        created_at=now,
        scenario_document=scenario.model_dump(mode="json", exclude_none=True) if scenario else None,
        participants=list(document.participants),
        next_actions=list(document.next_actions),
        next_tabletop=document.next_tabletop,
        reported_at=now,
    )
    session.add(exercise)
    session.flush()
    return exercise, True


def import_document(
    session: Session,
    path: Path,
    *,
    scenario: Scenario | None = None,
    sla: SlaPolicy | None = None,
    author: str | None = None,
) -> ImportResult:
    document = read_document(path)
    exercise, created = _exercise_for(session, document, scenario)
    result = ImportResult(path=str(path), exercise=exercise.label, exercise_created=created)
    if not created:
        for key in ("participants", "next_actions"):
            stored, given = list(getattr(exercise, key)), list(getattr(document, key))
            if not stored and given:
                setattr(exercise, key, given)
            elif given and stored != given:
                result.conflicts.append(f"{exercise.label} {key}: stored {stored}, file {given}")
    for entry in document.findings:
        # Stored ids are zero-padded (F-001); a hand-written F-1 is the same finding.
        finding_id = format_id(parse_id(entry.id))
        existing = session.get(Finding, finding_id)
        if existing is not None:
            differences = entry_differences(existing, entry)
            if existing.exercise_id != exercise.id:
                differences.insert(
                    0,
                    f"belongs to {existing.source_ref or existing.source}"
                    f" (exercise {existing.exercise_id}), not {exercise.label}",
                )
            if differences:
                result.conflicts.append(f"{finding_id}: " + "; ".join(differences))
            else:
                result.unchanged.append(finding_id)
            continue
        finding = create_finding(
            session,
            finding_id=finding_id,
            description=entry.description,
            severity=str(entry.severity),
            source=str(FindingSource.EXERCISE),
            source_ref=document_path(document.scenario, document.date),
            owner=entry.owner,
            team=entry.team or document.team,
            proposed_remediation=entry.proposed_remediation,
            capability=str(entry.capability) if entry.capability else None,
            change_type=str(entry.change_type) if entry.change_type else None,
            target_date=entry.target_date,
            fix_location=entry.fix_location,
            exercise_id=exercise.id,
            sla=sla,
            author=author,
            opened_on=document.date,
        )
        if entry.team is None and document.team is not None:
            finding.extra = {**finding.extra, "_team_from_document": True}
        if entry.status is not None and entry.status != FindingStatus.OPEN:
            set_status(
                session,
                finding,
                str(entry.status),
                note=f"imported from {path.name}",
                expires=entry.risk_expires,
                author=author,
            )
        result.created.append(finding_id)
    return result
