"""The second seed's failure modes, found in the records, each naming what raised it.

=====================  ============================================  ==================
signal                 raised when                                    evidence
=====================  ============================================  ==================
``theatre``            one team ran one scenario twice or more and    exercises, findings
                       the same gap (capability, or rule@technique)
                       was recorded in two of those runs
``repeat``             the same gap came back from runs of different  findings (sources)
                       origins (other scenarios, other drill steps)
``unfilled_role``      a role the scenario requires went unfilled in  exercises
                       two or more of a team's tabletops
``onboarding``         a person's first 90 days (``joined:`` in       the person, the
                       drillbook.yaml) ended with fewer than two      tabletops attended
                       tabletops attended
``stale_scenario``     a library scenario's ``last_reviewed`` is      the scenario file
                       older than ``cadence.review_library_every``
``past_sla``           a team has findings still open past their      findings, owner of
                       SLA due date                                   escalation
=====================  ============================================  ==================

Gap keys and counts come from ``GROUP BY`` queries; only the flagged groups' ids are
read. A signal is raised for the period when the latest record behind it falls inside
the period (theatre and repeats), or the exercises behind it ran in it (roles).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, literal_column, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from drillbook import clock
from drillbook.domain.exercise.enums import EventKind, canonical_role
from drillbook.domain.exercise.models import Exercise, ExerciseEvent
from drillbook.domain.finding.enums import Capability
from drillbook.domain.finding.models import Finding
from drillbook.domain.program.metrics import NO_TEAM, NOT_STARTED, active_clause, team_label
from drillbook.domain.program.models import Program
from drillbook.domain.program.periods import Period
from drillbook.domain.program.sql import joined_distinct_text, joined_text, split_joined
from drillbook.domain.scenario.models import Scenario

ONBOARDING_DAYS = 90
ONBOARDING_TABLETOPS = 2
UNFILLED_TIMES = 2
EVIDENCE_SHOWN = 20


@dataclass(frozen=True)
class Signal:
    kind: str
    team: str | None
    subject: str
    message: str
    evidence: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "team": self.team,
            "subject": self.subject,
            "message": self.message,
            "evidence": list(self.evidence),
            "data": dict(self.data),
        }


def gap_key() -> ColumnElement[str]:
    """What makes two findings "the same gap": the detection rule and technique for a
    drill's finding, else the response capability (``other`` and blank do not count)."""
    detection = (
        Finding.rule
        + literal_column("' @ '")
        + func.coalesce(Finding.technique, literal_column("'?'"))
    )
    return func.coalesce(detection, Finding.capability)


def _gap_present() -> ColumnElement[bool]:
    return (Finding.rule.is_not(None)) | and_(
        Finding.capability.is_not(None), Finding.capability != str(Capability.OTHER)
    )


def _team(value: str) -> str | None:
    return None if value == NO_TEAM else value


def theatre(session: Session, period: Period, team: str | None = None) -> list[Signal]:
    key = gap_key().label("gap")
    ex_team = team_label(Exercise.team).label("team")
    if session.get_bind().dialect.name == "sqlite":
        query = _theatre_distinct(key, ex_team, period, team)
    else:
        query = _theatre_grouped_twice(key, ex_team, period, team)
    out = []
    for row in session.execute(query):
        exercises = [f"EX-{e}" for e in sorted(int(x) for x in split_joined(row.exercises))]
        findings = split_joined(row.findings)
        out.append(
            Signal(
                "theatre",
                _team(row.team),
                row.scenario_id,
                f"scenario {row.scenario_id} ran {row.runs} times for {row.team} and recorded "
                f"the same gap ({row.gap}) each time: {', '.join(exercises)} "
                f"({', '.join(findings)}); vary the scenario and make the fix happen",
                (*exercises, *findings),
                {"gap": row.gap, "runs": int(row.runs), "last_run": row.last},
            )
        )
    return out


def _theatre_distinct(key: Any, ex_team: Any, period: Period, team: str | None) -> Any:
    """One grouping with DISTINCT aggregates (SQLite: cheaper than grouping twice)."""
    runs = func.count(func.distinct(Exercise.id))
    query = (
        select(
            ex_team,
            Exercise.scenario_id,
            key,
            runs.label("runs"),
            func.max(Exercise.run_date).label("last"),
            joined_distinct_text(Exercise.id).label("exercises"),
            joined_text(Finding.id).label("findings"),  # one row per finding already
        )
        .join(Exercise, Exercise.id == Finding.exercise_id)
        .where(_gap_present(), Exercise.status.not_in(NOT_STARTED))
        .group_by(ex_team, Exercise.scenario_id, key)
        .having(
            runs >= 2,
            func.max(Exercise.run_date) >= period.start,
            func.max(Exercise.run_date) < period.end,
        )
        .order_by(ex_team, Exercise.scenario_id, key)
    )
    if team is not None:
        query = query.where(Exercise.team == team)
    return query


def _theatre_grouped_twice(key: Any, ex_team: Any, period: Period, team: str | None) -> Any:
    """Grouped twice, so that no aggregate is DISTINCT (PostgreSQL cannot hash those and
    sorted every finding for them): the findings of each run per gap, then the runs."""
    runs = (
        select(
            ex_team,
            Exercise.scenario_id.label("scenario_id"),
            key,
            Exercise.id.label("exercise"),
            Exercise.run_date.label("run_date"),
            joined_text(Finding.id).label("findings"),
        )
        .join(Exercise, Exercise.id == Finding.exercise_id)
        .where(_gap_present(), Exercise.status.not_in(NOT_STARTED))
        .group_by(ex_team, Exercise.scenario_id, key, Exercise.id, Exercise.run_date)
    )
    if team is not None:
        runs = runs.where(Exercise.team == team)
    per_run = runs.subquery()
    last = func.max(per_run.c.run_date)
    return (
        select(
            per_run.c.team,
            per_run.c.scenario_id,
            per_run.c.gap,
            func.count().label("runs"),
            last.label("last"),
            joined_text(per_run.c.exercise).label("exercises"),
            joined_text(per_run.c.findings).label("findings"),
        )
        .group_by(per_run.c.team, per_run.c.scenario_id, per_run.c.gap)
        .having(func.count() >= 2, last >= period.start, last < period.end)
        .order_by(per_run.c.team, per_run.c.scenario_id, per_run.c.gap)
    )


def repeats(session: Session, period: Period, team: str | None = None) -> list[Signal]:
    # Grouped twice (see theatre): the findings per origin and gap, then the origins.
    key = gap_key().label("gap")
    origin: ColumnElement[str] = func.coalesce(
        literal_column("'scenario:'") + Exercise.scenario_id, Finding.source_ref, Finding.id
    )
    f_team = team_label(Finding.team).label("team")
    origins = (
        select(
            f_team,
            key,
            func.max(Finding.created_at).label("latest"),
            joined_text(Finding.id).label("findings"),
        )
        .outerjoin(Exercise, Exercise.id == Finding.exercise_id)
        .where(_gap_present())
        .group_by(f_team, key, origin)
    )
    if team is not None:
        origins = origins.where(Finding.team == team)
    per_origin = origins.subquery()
    latest = func.max(per_origin.c.latest)
    query = (
        select(
            per_origin.c.team,
            per_origin.c.gap,
            func.count().label("origins"),
            joined_text(per_origin.c.findings).label("findings"),
        )
        .group_by(per_origin.c.team, per_origin.c.gap)
        .having(func.count() >= 2, latest >= period.start_at, latest < period.end_at)
        .order_by(per_origin.c.team, per_origin.c.gap)
    )
    out = []
    for row in session.execute(query):
        findings = sorted(split_joined(row.findings), key=lambda f: (len(f), f))
        shown = findings[:EVIDENCE_SHOWN]
        more = f" and {len(findings) - len(shown)} more" if len(findings) > len(shown) else ""
        out.append(
            Signal(
                "repeat",
                _team(row.team),
                row.gap,
                f"the gap {row.gap} came back from {row.origins} different runs for "
                f"{row.team}: {', '.join(shown)}{more}",
                tuple(shown),
                {"gap": row.gap, "origins": int(row.origins), "findings": len(findings)},
            )
        )
    return out


def unfilled_roles(
    session: Session,
    period: Period,
    scenarios: Mapping[str, Scenario],
    team: str | None = None,
) -> list[Signal]:
    """Required roles of each tabletop's scenario with nobody assigned to them."""
    query = (
        select(Exercise.id, team_label(Exercise.team), Exercise.scenario_id)
        .where(
            Exercise.run_date >= period.start,
            Exercise.run_date < period.end,
            Exercise.status.not_in(NOT_STARTED),
        )
        .order_by(Exercise.run_date, Exercise.id)
    )
    if team is not None:
        query = query.where(Exercise.team == team)
    runs = session.execute(query).all()
    if not runs:
        return []
    filled: dict[int, set[str]] = {}
    assigned = session.execute(
        select(ExerciseEvent.exercise_id, ExerciseEvent.role, ExerciseEvent.data)
        .join(Exercise, Exercise.id == ExerciseEvent.exercise_id)
        .where(
            ExerciseEvent.kind == str(EventKind.ROLE_ASSIGNED),
            Exercise.run_date >= period.start,
            Exercise.run_date < period.end,
        )
        .order_by(ExerciseEvent.at, ExerciseEvent.id)
    )
    for exercise_id, role, data in assigned:
        roles = filled.setdefault(exercise_id, set())
        name = canonical_role(role) or ""
        if (data or {}).get("person"):
            roles.add(name)
        else:
            roles.discard(name)
    missing: dict[tuple[str, str], list[int]] = {}
    snapshots: dict[int, Scenario] = {}
    for exercise_id, team_name, scenario_id in runs:
        scenario = scenarios.get(scenario_id) or _snapshot(session, exercise_id, snapshots)
        if scenario is None:
            continue
        for participant in scenario.participants:
            role = canonical_role(participant.role) or participant.role
            if participant.required and role not in filled.get(exercise_id, set()):
                missing.setdefault((team_name, role), []).append(exercise_id)
    out = []
    for (team_name, role), ids in sorted(missing.items()):
        if len(ids) < UNFILLED_TIMES:
            continue
        labels = [f"EX-{i}" for i in ids]
        out.append(
            Signal(
                "unfilled_role",
                _team(team_name),
                role,
                f"{role} went unfilled in {len(ids)} of {team_name}'s tabletops "
                f"({', '.join(labels)}); participation is dropping: escalate to "
                "engineering management",
                tuple(labels),
                {"role": role, "times": len(ids)},
            )
        )
    return out


def _snapshot(session: Session, exercise_id: int, cache: dict[int, Scenario]) -> Scenario | None:
    exercise = session.get(Exercise, exercise_id)
    if exercise is None or not exercise.scenario_document:
        return None
    cache[exercise_id] = Scenario.model_validate(exercise.scenario_document)
    return cache[exercise_id]


def onboarding(
    session: Session, period: Period, program: Program | None, today: date
) -> list[Signal]:
    """People whose first 90 days ended in the period with fewer than two tabletops."""
    if program is None:
        return []
    window = timedelta(days=ONBOARDING_DAYS)
    due = [
        p
        for p in program.people
        if p.joined is not None
        and period.start <= p.joined + window < period.end
        and p.joined + window <= today
    ]
    if not due:
        return []
    first = min(p.joined for p in due if p.joined is not None)
    last = max(p.joined for p in due if p.joined is not None) + window
    ran = session.execute(
        select(Exercise.id, Exercise.run_date, Exercise.participants).where(
            Exercise.run_date >= first,
            Exercise.run_date <= last,
            Exercise.status.not_in(NOT_STARTED),
        )
    ).all()
    out = []
    for person in due:
        assert person.joined is not None
        end = person.joined + window
        attended = [
            f"EX-{eid}"
            for eid, run_date, participants in ran
            if person.joined <= run_date <= end and person.id in (participants or [])
        ]
        if len(attended) >= ONBOARDING_TABLETOPS:
            continue
        out.append(
            Signal(
                "onboarding",
                person.team,
                person.id,
                f"{person.id} joined on {person.joined.isoformat()} and took part in "
                f"{len(attended)} tabletop(s) in the first {ONBOARDING_DAYS} days (to "
                f"{end.isoformat()}); every new engineer takes part in "
                f"{ONBOARDING_TABLETOPS}" + (f": {', '.join(attended)}" if attended else ""),
                (f"drillbook.yaml people: {person.id}", *attended),
                {"joined": person.joined, "window_end": end, "tabletops": len(attended)},
            )
        )
    return out


def stale_scenarios(
    scenarios: Iterable[tuple[Scenario, str]], review_every: timedelta, today: date
) -> list[Signal]:
    """Library scenarios (with their file paths) whose last review is too old."""
    out = []
    for scenario, path in sorted(scenarios, key=lambda item: item[0].id):
        reviewed = scenario.last_reviewed
        if reviewed is None or today - reviewed <= review_every:
            continue
        out.append(
            Signal(
                "stale_scenario",
                None,
                scenario.id,
                f"{scenario.id} was last reviewed on {reviewed.isoformat()}, "
                f"{(today - reviewed).days} days ago (review every {review_every.days} "
                "days); refresh it against current threats",
                (path,),
                {"last_reviewed": reviewed, "age_days": (today - reviewed).days},
            )
        )
    return out


def past_sla(
    session: Session, program: Program | None, today: date, team: str | None = None
) -> list[Signal]:
    """Per team, the findings still owed work past their SLA due date."""
    overdue = [active_clause(today), Finding.due_date.is_not(None), Finding.due_date < today]
    if team is not None:
        overdue.append(Finding.team == team)
    # One pass over the overdue findings by team (in the database's order of team names)
    # and due date, ids only, counted here: a query per team, or a window over them, read
    # them all again.
    label = team_label(Finding.team)
    shown: dict[str, tuple[list[int], Any, list[str]]] = {}
    for team_name, finding_id, due in session.execute(
        # the due date as stored: only each team's first (the oldest) is read
        select(label, Finding.id, type_coerce(Finding.due_date, NullType()))
        .where(*overdue)
        .order_by(label, Finding.due_date, Finding.number)
    ):
        if team_name not in shown:
            oldest = due if isinstance(due, date) else date.fromisoformat(str(due)[:10])
            shown[team_name] = ([0], oldest, [])
        tally, _oldest, first = shown[team_name]
        tally[0] += 1
        if len(first) < EVIDENCE_SHOWN:
            first.append(finding_id)
    out = []
    for team_name, ([count], oldest, ids) in shown.items():
        contact = None
        if program is not None and team_name != NO_TEAM:
            found = program.team(team_name)
            contact = found.escalation_contact if found else None
        more = f" and {count - len(ids)} more" if count > len(ids) else ""
        out.append(
            Signal(
                "past_sla",
                _team(team_name),
                team_name,
                f"{count} finding(s) of {team_name} are past their SLA (oldest due "
                f"{oldest}): {', '.join(ids)}{more}"
                + (f"; escalate to {contact}" if contact else ""),
                tuple(ids),
                {"overdue": int(count), "oldest_due": oldest, "escalate_to": contact},
            )
        )
    return out


def find_signals(
    session: Session,
    period: Period,
    *,
    program: Program | None,
    scenarios: Mapping[str, Scenario],
    own_scenarios: Iterable[tuple[Scenario, str]],
    review_every: timedelta,
    team: str | None = None,
    today: date | None = None,
) -> list[Signal]:
    """Every failure-mode signal for ``period``, in the table's order."""
    today = today or clock.today()
    people = onboarding(session, period, program, today)
    if team is not None:
        people = [s for s in people if s.team == team]
    return [
        *theatre(session, period, team),
        *repeats(session, period, team),
        *unfilled_roles(session, period, scenarios, team),
        *people,
        *stale_scenarios(own_scenarios, review_every, min(today, period.end - timedelta(days=1))),
        *past_sla(session, program, today, team),
    ]
