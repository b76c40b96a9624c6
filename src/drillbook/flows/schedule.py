"""Assemble the schedule's inputs from the library, git and the store, and build it.

The planning rule is :func:`drillbook.domain.program.schedule.build_schedule` (pure); this
flow gathers what it needs: the teams and cadence (``drillbook.yaml``), the scenarios and
drill plans (the library), the inventory changes (git history of ``inventory.yaml``), the
incidents, exercises and drill runs (the store). The calendar feed (``--ics``) is written
here too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.documents.durations import parse_duration
from drillbook.domain.drill.models import DrillRun
from drillbook.domain.drill.planfile import load_plan
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.finding.models import Finding
from drillbook.domain.incident.service import list_incidents
from drillbook.domain.program.metrics import active_clause
from drillbook.domain.program.periods import Period, quarter_of, quarters_from
from drillbook.domain.program.schedule import (
    AGENT_ROTATION,
    DrillPlanInfo,
    DrillRecord,
    ExerciseRecord,
    ScenarioInfo,
    ScheduleInputs,
    ScheduleItem,
    Trigger,
    build_schedule,
    rotation_scenarios,
)
from drillbook.domain.scenario.enums import Category
from drillbook.errors import LibraryError
from drillbook.flows.inventory_history import inventory_history
from drillbook.flows.program import review_every
from drillbook.library.loader import DRILL_DIR, Library, yaml_files

ATTACK = re.compile(r"\bT\d{4}(?:\.\d{3})?\b")
# Which agent incident an inventory change is rehearsed with.
TRIGGER_CATEGORY = {
    "new_agent": Category.PROMPT_INJECTION,
    "new_tool": Category.IMPROPER_TOOL_FIRE,
    "sensitive_team": Category.WRONG_TEAM_DATA_EXPOSURE,
}
TRIGGER_WORDS = {
    "new_agent": "new agent",
    "new_tool": "new tool",
    "sensitive_team": "new team holding sensitive data",
}


@dataclass
class Schedule:
    quarters: list[Period]
    items: list[ScheduleItem]
    notes: list[str] = field(default_factory=list)

    def due(self) -> list[ScheduleItem]:
        return [i for i in self.items if i.status == "overdue"]

    def as_dict(self, *, due_only: bool = False) -> dict[str, object]:
        return {
            "quarters": [q.label for q in self.quarters],
            "items": [i.as_dict() for i in (self.due() if due_only else self.items)],
            "notes": self.notes,
        }


def _scenarios(library: Library) -> dict[str, ScenarioInfo]:
    return {
        sid: ScenarioInfo(
            id=sid,
            title=loaded.scenario.title,
            category=str(loaded.scenario.category) if loaded.scenario.category else None,
            tags=tuple(loaded.scenario.tags),
            last_reviewed=loaded.scenario.last_reviewed,
            own=not loaded.builtin,
        )
        for sid, loaded in library.scenarios.items()
    }


def _drill_plans(root: Path | None, notes: list[str]) -> list[DrillPlanInfo]:
    plans: list[DrillPlanInfo] = []
    if root is None:
        return plans
    for path in yaml_files(root / DRILL_DIR):
        try:
            loaded = load_plan(path)
        except LibraryError as exc:
            notes.append(f"{path}: not a drill plan, left out of the drill choice ({exc})")
            continue
        techniques = frozenset(
            ATTACK.findall(" ".join(t.model_dump_json() for t in loaded.techniques))
        )
        plans.append(DrillPlanInfo(loaded.plan.name, str(path.relative_to(root)), techniques))
    return plans


def _teams(library: Library, session: Session) -> list[str | None]:
    if library.program and library.program.teams:
        return [t.id for t in library.program.teams]
    seen = session.scalars(
        select(Exercise.team).where(Exercise.team.is_not(None)).distinct().order_by(Exercise.team)
    )
    return list(seen) or [None]


def _records(
    session: Session, start: date, end: date
) -> tuple[list[ExerciseRecord], list[DrillRecord]]:
    rows = session.execute(
        select(
            Exercise.id,
            Exercise.team,
            Exercise.scenario_id,
            Exercise.run_date,
            Exercise.status,
            Exercise.reported_at,
        ).where(Exercise.run_date >= start, Exercise.run_date < end)
    ).all()
    today = clock.today()
    findings: dict[int, list[tuple[str, str | None, bool]]] = {}
    if rows:
        active = active_clause(today)
        for exercise_id, finding_id, technique, owed in session.execute(
            select(Finding.exercise_id, Finding.id, Finding.technique, active)
            .where(Finding.exercise_id.in_([r.id for r in rows]))
            .order_by(Finding.number)
        ):
            if exercise_id is not None:
                findings.setdefault(exercise_id, []).append((finding_id, technique, bool(owed)))
    exercises = [
        ExerciseRecord(
            r.id,
            r.team,
            r.scenario_id,
            r.run_date,
            r.status,
            r.reported_at,
            tuple(findings.get(r.id, [])),
        )
        for r in rows
    ]
    drills = [
        DrillRecord(run.id, run.team, run.plan_name, run.started_at)
        for run in session.execute(
            select(DrillRun.id, DrillRun.team, DrillRun.plan_name, DrillRun.started_at).where(
                DrillRun.started_at >= Period(start, end, "").start_at,
                DrillRun.started_at < Period(start, end, "").end_at,
            )
        )
    ]
    return exercises, drills


def _triggers(library: Library, session: Session, since: date, notes: list[str]) -> list[Trigger]:
    scenarios = _scenarios(library)
    rotation = rotation_scenarios(scenarios)
    found: list[Trigger] = []
    if library.root is not None and (library.root / "inventory.yaml").is_file():
        history = inventory_history(library.root)
        if not history.tracked:
            notes.append(
                "the library is not in git: extra exercises for inventory changes need its "
                "history (git init; commit inventory.yaml)"
            )
        notes.extend(history.skipped)
        for change in history.changes:
            if change.day < since:
                continue
            category = TRIGGER_CATEGORY[change.kind]
            for team in change.teams or (None,):
                found.append(
                    Trigger(
                        change.kind,
                        change.day,
                        team,
                        rotation.get(category),
                        f"{TRIGGER_WORDS[change.kind]} '{change.name}' in inventory.yaml "
                        f"({change.ref} on {change.day}: {change.subject})",
                        (change.ref,),
                    )
                )
    for incident in list_incidents(session, since=since):
        scenario_id = incident.scenario_id
        if scenario_id is None and incident.category:
            category = Category(incident.category)
            scenario_id = rotation.get(category) if category in AGENT_ROTATION else None
            if scenario_id is None:
                scenario_id = next(
                    (
                        s.id
                        for s in sorted(scenarios.values(), key=lambda s: (not s.own, s.id))
                        if s.category == incident.category
                    ),
                    None,
                )
        found.append(
            Trigger(
                "incident",
                incident.occurred_on,
                incident.team,
                scenario_id,
                f"after the real incident {incident.label} on {incident.occurred_on}: "
                f"{incident.title} (verify the post-mortem's fixes changed the response)",
                (incident.label,),
            )
        )
    return found


def program_schedule(
    session: Session,
    library: Library,
    *,
    quarters: int = 4,
    team: str | None = None,
    start: Period | None = None,
    today: date | None = None,
) -> Schedule:
    today = today or clock.today()
    periods = quarters_from(start or quarter_of(today), quarters)
    notes: list[str] = []
    program = library.program
    cadence = program.cadence if program else None
    followup = parse_duration(cadence.followup_after if cadence else "30d")
    # triggers from the quarter before the first one land in the first one
    since = quarter_of(periods[0].start - timedelta(days=1)).start
    exercises, drills = _records(session, since, periods[-1].end)
    teams = _teams(library, session)
    inputs = ScheduleInputs(
        teams=teams,
        quarters=periods,
        scenarios=_scenarios(library),
        drill_plans=_drill_plans(library.root, notes),
        exercises=exercises,
        drills=drills,
        triggers=_triggers(library, session, since, notes),
        followup_after=timedelta(days=followup.days),
        review_every=review_every(library),
        today=today,
    )
    items = build_schedule(inputs)
    if team is not None:
        items = [i for i in items if i.team in (team, None)]
    return Schedule(periods, items, notes)


def write_ics(items: Sequence[ScheduleItem], path: Path) -> None:
    """One all-day event per item (remediation spans its month), for any calendar."""
    calendar = Calendar()
    calendar.add("prodid", "-//drillbook//program schedule//EN")
    calendar.add("version", "2.0")
    stamp = clock.now()
    for index, item in enumerate(items):
        event = Event()
        event.add(
            "uid",
            f"{item.quarter}-{item.team or 'all'}-{item.kind}-{item.due.isoformat()}-{index}"
            "@drillbook",
        )
        event.add("dtstamp", stamp)
        event.add("dtstart", item.due)
        event.add("dtend", (item.until or item.due) + timedelta(days=1))
        event.add("summary", f"{item.title} ({item.team or 'all teams'})")
        event.add("description", f"{item.reason}. Status: {item.status}.")
        calendar.add_component(event)
    path.write_bytes(calendar.to_ical())
