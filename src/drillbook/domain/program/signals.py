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

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import literal, or_, select, union_all
from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.domain.exercise.enums import EventKind, canonical_role
from drillbook.domain.exercise.models import Exercise, ExerciseEvent
from drillbook.domain.finding.models import Finding
from drillbook.domain.program.gaps import (
    GapGroups,
    RepeatGroup,
    TheatreGroup,
    start_gap_groups,
)
from drillbook.domain.program.metrics import (
    NO_TEAM,
    NOT_STARTED,
    overdue_by_team,
    overdue_clause,
    team_label,
)
from drillbook.domain.program.models import Program
from drillbook.domain.program.periods import Period
from drillbook.domain.scenario.models import Scenario

ONBOARDING_DAYS = 90
ONBOARDING_TABLETOPS = 2
UNFILLED_TIMES = 2
EVIDENCE_SHOWN = 20
TEAMS_PER_STATEMENT = 200  # SQLite allows 500 parts in a compound SELECT


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


def _team(value: str) -> str | None:
    return None if value == NO_TEAM else value


def theatre(groups: Iterable[TheatreGroup]) -> list[Signal]:
    out = []
    for group in groups:
        exercises = [f"EX-{e}" for e in _in_number_order(group.exercises)]
        findings = sorted(group.findings)
        out.append(
            Signal(
                "theatre",
                _team(group.team),
                group.scenario_id,
                f"scenario {group.scenario_id} ran {len(exercises)} times for {group.team} "
                f"and recorded the same gap ({group.gap}) each time: {', '.join(exercises)} "
                f"({', '.join(findings)}); vary the scenario and make the fix happen",
                (*exercises, *findings),
                {"gap": group.gap, "runs": len(exercises), "last_run": group.last},
            )
        )
    return out


def repeats(groups: Iterable[RepeatGroup]) -> list[Signal]:
    out = []
    for group in groups:
        findings = group.findings
        # the first by (length, id): finding numbers in order
        longest = _nth_length(findings)
        shown = sorted(f for f in findings if len(f) <= longest)
        shown.sort(key=len)
        shown = shown[:EVIDENCE_SHOWN]
        more = f" and {len(findings) - len(shown)} more" if len(findings) > len(shown) else ""
        out.append(
            Signal(
                "repeat",
                _team(group.team),
                group.gap,
                f"the gap {group.gap} came back from {len(group.origins)} different runs for "
                f"{group.team}: {', '.join(shown)}{more}",
                tuple(shown),
                {"gap": group.gap, "origins": len(group.origins), "findings": len(findings)},
            )
        )
    return out


def _in_number_order(ids: Iterable[str]) -> list[str]:
    """Decimal ids (as the database writes numbers: no sign, no leading zero) in numeric
    order: shorter first, then by text."""
    ordered = sorted(ids)
    ordered.sort(key=len)
    return ordered


def _nth_length(ids: list[str]) -> int:
    """The length of the EVIDENCE_SHOWN-th shortest id: no id longer comes before it."""
    lengths = sorted(map(len, ids))
    return lengths[min(EVIDENCE_SHOWN, len(lengths)) - 1]


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
    # a library scenario's required seats, named once (not once per tabletop of it)
    seats = {sid: _required_seats(scenario) for sid, scenario in scenarios.items()}
    nobody: set[str] = set()
    for exercise_id, team_name, scenario_id in runs:
        required = seats.get(scenario_id)
        if required is None:
            scenario = _snapshot(session, exercise_id, snapshots)
            if scenario is None:
                continue
            required = _required_seats(scenario)
        taken = filled.get(exercise_id, nobody)
        for role in required:
            if role not in taken:
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


def _required_seats(scenario: Scenario) -> list[str]:
    """The scenario's required roles under their canonical names, in its order."""
    return [
        canonical_role(participant.role) or participant.role
        for participant in scenario.participants
        if participant.required
    ]


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
    session: Session,
    program: Program | None,
    today: date,
    team: str | None = None,
    overdue: Mapping[str, int] | None = None,
) -> list[Signal]:
    """Per team, the findings still owed work past their SLA due date. ``overdue`` (how
    many per team label) comes with the metrics' counts, which read every finding anyway;
    here only each team's first few are read, oldest due first, through the team and due
    date index, instead of every overdue finding."""
    if overdue is None:
        overdue = overdue_by_team(session, today, team)
    out = []
    for team_name, (ids, oldest) in _first_overdue(session, today, list(overdue), team).items():
        count = overdue[team_name]
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


def _first_overdue(
    session: Session, today: date, teams: list[str], only: str | None
) -> dict[str, tuple[list[str], date]]:
    """The first :data:`EVIDENCE_SHOWN` overdue findings (by due date, then number) of each
    team label, and the oldest due date, in the database's order of the labels: a
    ``LIMIT`` per team, all in one statement (a few hundred teams at a time). ``only``:
    the one team asked for, by its stored name (``(no team)`` asked for by name is not
    the findings of none)."""
    shown: dict[str, tuple[list[str], date]] = {}
    for chunk in range(0, len(teams), TEAMS_PER_STATEMENT):
        parts = []
        for name in teams[chunk : chunk + TEAMS_PER_STATEMENT]:
            stored = Finding.team == name
            if name == NO_TEAM and only is None:
                stored = or_(Finding.team.is_(None), stored)
            first = (
                select(
                    literal(name).label("team"),
                    Finding.id.label("id"),
                    Finding.due_date.label("due"),
                    Finding.number.label("number"),
                )
                .where(stored, overdue_clause(today))
                .order_by(Finding.due_date, Finding.number)
                .limit(EVIDENCE_SHOWN)
                .subquery()
            )
            parts.append(select(first))
        both = union_all(*parts).subquery()
        for name, finding_id, due in session.execute(
            select(both.c.team, both.c.id, both.c.due).order_by(
                both.c.team, both.c.due, both.c.number
            )
        ):
            shown.setdefault(name, ([], due))[0].append(finding_id)
    return shown


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
    overdue: Mapping[str, int] | None = None,
    gaps: Callable[[], GapGroups] | None = None,
) -> list[Signal]:
    """Every failure-mode signal for ``period``, in the table's order (``overdue``: the
    metrics' count per team of findings past their SLA, read again when not given;
    ``gaps``: the gap groups begun by :func:`~.gaps.start_gap_groups`, awaited last)."""
    today = today or clock.today()
    if gaps is None:
        gaps = start_gap_groups(session, period, team)
    people = onboarding(session, period, program, today)
    if team is not None:
        people = [s for s in people if s.team == team]
    roles = unfilled_roles(session, period, scenarios, team)
    late = past_sla(session, program, today, team, overdue)
    by_theatre, by_repeat = gaps()
    return [
        *theatre(by_theatre),
        *repeats(by_repeat),
        *roles,
        *people,
        *stale_scenarios(own_scenarios, review_every, min(today, period.end - timedelta(days=1))),
        *late,
    ]
