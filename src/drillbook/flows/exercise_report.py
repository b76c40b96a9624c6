"""Gather everything the dated tabletop report says, from the store and the program.

The first seed's report: date and participants, scenario brief, phase-by-phase decisions
with times, what the team missed, the fix list with owners and dates, and the next
tabletop, and figures of the exercise's findings and its team's program around it
(:mod:`drillbook.flows.program_figures`). Every time shown is exercise time (``T+mm:ss``,
pauses excluded) computed by the same functions as the live clock, so the report and the
timeline always agree.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.documents.durations import parse_duration
from drillbook.domain.exercise.enums import EventKind, ExerciseStatus
from drillbook.domain.exercise.evaluation import (
    CriterionResult,
    evaluate_criteria,
    offsets,
    unanswered_injects,
)
from drillbook.domain.exercise.models import Exercise, ExerciseEvent
from drillbook.domain.exercise.service import (
    change_status,
    clock_of,
    current_roles,
    log_event,
    scenario_of,
)
from drillbook.domain.exercise.timeline import format_offset
from drillbook.domain.finding.service import list_findings
from drillbook.domain.finding.tracking import links_by_finding
from drillbook.domain.program.models import Cadence, Program
from drillbook.domain.scenario.enums import PHASE_ORDER
from drillbook.flows.program_figures import exercise_figures, findings_by_severity
from drillbook.reports.data import CriterionRow, PhaseSection, ReportData, ReportEvent
from drillbook.reports.figures import Spec

# (team, month of the run date, day written) -> the program figures and their scope line
FigureCache = dict[tuple[str | None, date, date], tuple[list[Spec], str]]

# What the phase-by-phase summary lists; status changes and role assignments are in the
# full timeline at the end.
SUMMARY_KINDS = (EventKind.INJECT, EventKind.DECISION, EventKind.OBSERVATION, EventKind.NOTE)


def _event(event: ExerciseEvent, offset: timedelta) -> ReportEvent:
    # On a role assignment ``role`` is the seat being filled, not the author's seat: shown
    # beside the author it would read as if the facilitator held it ("fran (comms_lead)").
    return ReportEvent(
        offset=format_offset(offset),
        at=event.at,
        kind=event.kind,
        text=(event.text or "").strip(),
        author=event.author,
        role=None if event.kind == EventKind.ROLE_ASSIGNED else event.role,
        phase=event.phase,
    )


def _criterion_row(result: CriterionResult) -> CriterionRow:
    """A criterion as the auditor reads it: met rows name the event that met it (kind,
    who, what was said, tagged or by the scenario's mapping) and its exercise time."""
    deadline = format_offset(result.deadline) if result.deadline is not None else None
    first = result.first
    if result.met and first is not None:
        who = f" by {first.event.author}" if first.event.author else ""
        what = " ".join((first.event.text or "").split())
        detail = f"{first.event.kind.replace('_', ' ')}{who}: {what} ({first.source})"
    else:
        detail = result.reason
    return CriterionRow(
        key=result.key,
        text=result.criterion.text,
        deadline=deadline,
        outcome=str(result.state),
        detail=detail,
        evidence_time=first.time if first is not None else None,
    )


def _phases(events: list[ExerciseEvent], at: dict[int, timedelta]) -> list[PhaseSection]:
    started: dict[str, str] = {}
    grouped: dict[str, list[ReportEvent]] = {}
    for event in events:
        if event.kind == EventKind.PHASE_STARTED and event.phase and event.phase not in started:
            started[event.phase] = format_offset(at[event.id])
        if event.kind in SUMMARY_KINDS and event.phase:
            grouped.setdefault(event.phase, []).append(_event(event, at[event.id]))
    sections = []
    for phase in PHASE_ORDER:
        if phase in started or phase in grouped:
            sections.append(
                PhaseSection(str(phase), phase.label, started.get(phase), grouped.get(phase, []))
            )
    return sections


def next_tabletop_date(exercise: Exercise, cadence: Cadence) -> date:
    if exercise.next_tabletop is not None:
        return exercise.next_tabletop
    return exercise.run_date + parse_duration(cadence.tabletop_every)


def build_report(
    session: Session,
    exercise: Exercise,
    program: Program | None,
    *,
    counsel: bool = False,
    distribution: list[str] | None = None,
    figure_cache: FigureCache | None = None,
) -> ReportData:
    """The report's content. ``figure_cache`` lets a caller writing many reports (the
    evidence pack) count each team's program figures once per month of run dates."""
    scenario = scenario_of(exercise)
    cadence = program.cadence if program else Cadence()
    events = list(exercise.events)
    at = offsets(events)
    state = clock_of(exercise)
    criteria = evaluate_criteria(scenario.criteria, events, state) if scenario else []
    roles = current_roles(exercise)
    people = [(person, role) for role, person in roles.items()]
    for person in exercise.participants:
        if person not in roles.values():
            people.append((person, "participant"))
    report_due = state.ended_at + parse_duration(cadence.report_within) if state.ended_at else None
    # Judged by when the report was first written, so a copy rendered later for an auditor
    # does not call an on-time report late.
    reported = exercise.reported_at or clock.now()
    fixes = list_findings(session, exercise_id=exercise.id)
    key = (exercise.team, exercise.run_date.replace(day=1), clock.today())
    cached = figure_cache.get(key) if figure_cache is not None else None
    if cached is None:
        cached = exercise_figures(session, exercise.team, exercise.run_date, clock.today())
        if figure_cache is not None:
            figure_cache[key] = cached
    program_figures, program_scope = cached
    return ReportData(
        exercise_label=exercise.label,
        title=exercise.title,
        scenario_id=exercise.scenario_id,
        team=exercise.team,
        run_date=exercise.run_date,
        status=exercise.status,
        started_at=state.started_at,
        ended_at=state.ended_at,
        elapsed=format_offset(state.elapsed),
        prepared_on=clock.today(),
        report_due=report_due,
        on_time=(reported <= report_due) if report_due else None,
        participants=people,
        initial_state=scenario.initial_state.strip() if scenario else "",
        duration=scenario.duration if scenario else "",
        schedule=[(f"T+{i.time}", i.description.strip()) for i in scenario.injects]
        if scenario
        else [],
        discussion_questions=list(scenario.discussion_questions) if scenario else [],
        phases=_phases(events, at),
        criteria=[_criterion_row(r) for r in criteria],
        unanswered=[_event(u.inject, u.offset) for u in unanswered_injects(events)],
        fixes=fixes,
        tracker_keys=_tracker_keys(session, [f.id for f in fixes]),
        next_tabletop=next_tabletop_date(exercise, cadence),
        next_actions=[str(a) for a in exercise.next_actions],
        timeline=[_event(e, at[e.id]) for e in events],
        organisation=program.organisation if program else None,
        first_reported_at=exercise.reported_at,
        counsel=counsel,
        distribution=list(distribution or []),
        fix_figure=findings_by_severity(fixes),
        program_figures=list(program_figures),
        program_scope=program_scope,
    )


def _tracker_keys(session: Session, finding_ids: list[str]) -> dict[str, list[str]]:
    return {
        finding_id: [link.key for link in links]
        for finding_id, links in links_by_finding(session, finding_ids).items()
    }


def mark_reported(
    session: Session, exercise: Exercise, *, author: str | None = None, path: str | None = None
) -> None:
    """Record that the report was written; the first time moves the run to ``reported``."""
    if exercise.status == ExerciseStatus.IN_REVIEW:
        change_status(
            session, exercise, ExerciseStatus.REPORTED, author=author, reason="report written"
        )
        exercise.reported_at = clock.now()
    log_event(
        session,
        exercise,
        EventKind.REPORT_WRITTEN,
        text=path or "report written",
        author=author,
        data={"path": path},
    )
