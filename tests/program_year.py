"""A constructed year of history (2026) for the program tests: three teams, tabletops,
drills, detection checks and findings with dated transitions, with failure modes planted.

What is planted (the tests check each signal is raised exactly here):

* theatre: alpha ran agent-wrong-team-exposure-gentle in Q1 and Q2 and both runs
  recorded an on_call gap (F-001 and F-003);
* repeat: beta's approval_gates gap came from two scenarios (F-005, F-006), and gamma's
  drill rule ``R1`` for T1059.004 failed in two drill runs (F-008, F-009);
* unfilled role: beta's comms_lead was left empty in its Q2 and Q3 tabletops;
* onboarding: nora joined 2026-02-01 and took part in one tabletop in 90 days;
* stale scenario: scenarios/old-drill.yaml last reviewed 2026-01-01;
* past SLA: alpha F-003 (high), gamma F-007 (high) and F-009 (medium) are overdue on
  2027-01-10, the day the metrics are computed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from drillbook.clock import FakeClock
from drillbook.domain.drill.models import DrillRun
from drillbook.domain.exercise import service as exercises
from drillbook.domain.exercise.enums import canonical_role
from drillbook.domain.finding.service import create_finding, get_finding, set_status
from drillbook.domain.program.models import Person, Program, Team
from drillbook.domain.scenario.models import Scenario
from drillbook.domain.scorecard.models import DetectionResultRow
from drillbook.library.loader import Library, LoadedScenario, load_builtin
from drillbook.storage.engine import Store

TODAY = date(2027, 1, 10)
WRONG = "agent-wrong-team-exposure-gentle"
TOOL = "agent-improper-tool-fire-gentle"
PROMPT = "agent-prompt-injection-gentle"


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def library() -> Library:
    scenarios = load_builtin()
    base = scenarios[WRONG].scenario
    for sid, reviewed in (("old-drill", date(2026, 1, 1)), ("fresh-drill", date(2026, 12, 1))):
        copy = base.model_copy(update={"id": sid, "last_reviewed": reviewed})
        scenarios[sid] = LoadedScenario(copy, Path(f"scenarios/{sid}.yaml"), {}, builtin=False)
    program = Program(
        organisation="Example",
        teams=[
            Team(id="alpha", escalation_contact="erin"),
            Team(id="beta"),
            Team(id="gamma", escalation_contact="gus"),
        ],
        people=[
            Person(id="nora", team="alpha", joined=date(2026, 2, 1)),
            Person(id="omar", team="beta", joined=date(2026, 3, 1)),
            Person(id="pia", team="gamma", joined=date(2026, 12, 1)),
        ],
    )
    return Library(root=None, program=program, scenarios=scenarios)


def _roles(scenario: Scenario) -> list[str]:
    return [canonical_role(p.role) or p.role for p in scenario.participants if p.required]


def _tabletop(
    store: Store,
    clock: FakeClock,
    lib: Library,
    scenario_id: str,
    team: str,
    day: str,
    *,
    people: dict[str, str] | None = None,
    leave_empty: str | None = None,
    start: bool = True,
) -> int:
    scenario = lib.scenarios[scenario_id].scenario
    clock.set(at(day, 9))
    assignments = {role: f"{team}-{role}" for role in _roles(scenario) if role != leave_empty}
    for role, person in (people or {}).items():
        assignments[role] = person
    with store.session() as session:
        exercise = exercises.create_exercise(
            session,
            scenario=scenario,
            team=team,
            run_date=date.fromisoformat(day),
            assignments=assignments,
        )
        if start:
            exercises.start(session, exercise)
            exercises.end(session, exercise)
        return exercise.id


def _finding(
    store: Store,
    clock: FakeClock,
    day: str,
    severity: str,
    capability: str,
    team: str,
    *,
    exercise: int | None = None,
    rule: str | None = None,
    source_ref: str | None = None,
) -> str:
    clock.set(at(day))
    with store.session() as session:
        finding = create_finding(
            session,
            description=f"{capability} gap found on {day}",
            severity=severity,
            source="exercise" if exercise is not None else "drill",
            capability=capability,
            change_type="configuration",
            team=team,
            exercise_id=exercise,
            rule=rule,
            technique="T1059.004" if rule else None,
            source_ref=source_ref,
            owner=f"{team}-owner",
        )
        return finding.id


def _move(store: Store, clock: FakeClock, finding: str, day: str, status: str) -> None:
    clock.set(at(day))
    with store.session() as session:
        set_status(session, get_finding(session, finding), status, note=f"{status} on {day}")


def _drill(store: Store, run_id: str, team: str, day: str, checks: list[tuple]) -> None:
    """``checks``: (rule, fired, seconds to alert or None, seconds to ack or None)."""
    started = at(day)
    with store.session() as session:
        session.add(
            DrillRun(
                id=run_id,
                plan_name=f"plan-{run_id}",
                plan_path=f"drills/{run_id}.yaml",
                team=team,
                target="local",
                status="completed",
                started_at=started,
                ended_at=started + timedelta(minutes=20),
                runner_pid=None,
                runner_host="test",
                operator="tester",
                safety={},
            )
        )
        for index, (rule, fired, to_alert, to_ack) in enumerate(checks):
            alert = started + timedelta(seconds=to_alert) if to_alert is not None else None
            session.add(
                DetectionResultRow(
                    drill_run_id=run_id,
                    technique_run_id=f"{run_id}-t{index}",
                    technique="T1059.004",
                    technique_name="Unix shell",
                    expected_rule=rule,
                    backend="local",
                    verdict="fired" if fired else "not_fired",
                    fired=fired,
                    technique_started_at=started,
                    first_alert_at=alert,
                    time_to_alert_seconds=float(to_alert) if to_alert is not None else None,
                    acknowledged_at=(
                        alert + timedelta(seconds=to_ack) if alert and to_ack is not None else None
                    ),
                    events_seen=3,
                    detail="",
                    checked_at=started + timedelta(minutes=30),
                )
            )


def build_year(store: Store, clock: FakeClock) -> Library:
    """Write the year into ``store``; leaves the clock at :data:`TODAY`."""
    lib = library()
    a1 = _tabletop(store, clock, lib, WRONG, "alpha", "2026-01-15")
    b1 = _tabletop(store, clock, lib, PROMPT, "beta", "2026-02-10", people={"observer": "nora"})
    g1 = _tabletop(store, clock, lib, TOOL, "gamma", "2026-03-01", people={"observer": "omar"})
    a2 = _tabletop(store, clock, lib, WRONG, "alpha", "2026-04-15", people={"observer": "omar"})
    b2 = _tabletop(store, clock, lib, TOOL, "beta", "2026-05-12", leave_empty="comms_lead")
    _tabletop(store, clock, lib, TOOL, "alpha", "2026-07-15")
    b3 = _tabletop(store, clock, lib, WRONG, "beta", "2026-08-10", leave_empty="comms_lead")
    _tabletop(store, clock, lib, PROMPT, "gamma", "2026-11-20", start=False)  # planned only

    f1 = _finding(store, clock, "2026-01-15", "high", "on_call", "alpha", exercise=a1)
    f2 = _finding(store, clock, "2026-01-15", "medium", "customer_comms", "alpha", exercise=a1)
    f3 = _finding(store, clock, "2026-04-15", "high", "on_call", "alpha", exercise=a2)
    f4 = _finding(
        store, clock, "2026-02-10", "critical", "credential_revocation", "beta", exercise=b1
    )
    f5 = _finding(store, clock, "2026-05-12", "low", "approval_gates", "beta", exercise=b2)
    f6 = _finding(store, clock, "2026-08-10", "medium", "approval_gates", "beta", exercise=b3)
    f7 = _finding(store, clock, "2026-03-01", "high", "data_scoping", "gamma", exercise=g1)
    f8 = _finding(
        store,
        clock,
        "2026-03-20",
        "high",
        "detection",
        "gamma",
        rule="R1",
        source_ref="drill:d1/t1",
    )
    f9 = _finding(
        store,
        clock,
        "2026-09-20",
        "medium",
        "detection",
        "gamma",
        rule="R1",
        source_ref="drill:d2/t1",
    )
    assert [f1, f2, f3, f4, f5, f6, f7, f8, f9] == [f"F-00{i}" for i in range(1, 10)]
    _move(store, clock, f1, "2026-01-25", "resolved")  # 10 days
    _move(store, clock, f2, "2026-03-01", "resolved")  # 45 days
    _move(store, clock, f4, "2026-02-12", "resolved")
    _move(store, clock, f4, "2026-02-14", "verified")  # 4 days (closed when verified)
    _move(store, clock, f5, "2026-05-22", "wont_do")  # 10 days
    _move(store, clock, f6, "2026-09-09", "resolved")  # 30 days
    _move(store, clock, f7, "2026-03-05", "in_progress")  # still owed, due 2026-03-31
    _move(store, clock, f8, "2026-04-05", "verified")  # 16 days

    _drill(store, "d1", "gamma", "2026-03-20", [("R0", True, 60, 300), ("R1", False, None, None)])
    _drill(
        store,
        "d3",
        "alpha",
        "2026-06-10",
        [("R2", True, 30, 120), ("R3", True, 90, None), ("R4", True, 120, 600)],
    )
    _drill(store, "d2", "gamma", "2026-09-20", [("R1", False, None, None)])
    clock.set(at(TODAY.isoformat()))
    return lib
