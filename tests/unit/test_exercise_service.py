"""Exercise lifecycle, timeline events and success criteria, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest

from drillbook.clock import FakeClock
from drillbook.domain.exercise import service
from drillbook.domain.exercise.enums import EventKind, ExerciseStatus
from drillbook.domain.exercise.evaluation import evaluate_criteria, unanswered_injects
from drillbook.domain.scenario.enums import Phase
from drillbook.domain.scenario.models import Scenario
from drillbook.errors import NotFoundError, StateError
from drillbook.library.loader import load_scenario_file
from drillbook.storage.engine import Store
from tests.helpers import SEED


@pytest.fixture
def mcp() -> Scenario:
    return load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario


def _results(store: Store, exercise_id: int) -> dict[str, bool | None]:
    with store.session() as session:
        exercise = service.get_exercise(session, exercise_id)
        scenario = service.scenario_of(exercise)
        assert scenario is not None
        results = evaluate_criteria(scenario.criteria, exercise.events, service.clock_of(exercise))
        return {r.criterion.text: r.met for r in results}


def test_lifecycle_logs_every_change(store: Store, fake_clock: FakeClock, mcp: Scenario) -> None:
    with store.session() as session:
        exercise = service.create_exercise(session, scenario=mcp, team="sre")
        service.start(session, exercise, author="fran")
        fake_clock.advance(60)
        service.drop_inject(session, exercise, author="fran")
        fake_clock.advance(60)
        service.record(session, exercise, EventKind.DECISION, "page alice as IC", author="bob")
        service.pause(session, exercise)
        fake_clock.advance(600)
        service.resume(session, exercise)
        fake_clock.advance(30)
        service.set_phase(session, exercise)
        service.drop_inject(session, exercise, text="the customer tweets a screenshot")
        service.end(session, exercise)
        exercise_id = exercise.id
    with store.session() as session:
        exercise = service.get_exercise(session, exercise_id)
        kinds = [e.kind for e in exercise.events]
        clock = service.clock_of(exercise)
    assert kinds == [
        "status_changed",
        "phase_started",
        "inject",
        "decision",
        "status_changed",
        "status_changed",
        "phase_started",
        "inject",
        "status_changed",
    ]
    assert clock.status == ExerciseStatus.IN_REVIEW
    assert clock.elapsed == timedelta(seconds=150)  # the 10-minute pause does not count
    assert clock.phase == Phase.CONTAINMENT
    assert exercise.events[3].phase == "detection"
    assert exercise.events[7].phase == "containment"


def test_illegal_transitions_are_refused(
    store: Store, fake_clock: FakeClock, mcp: Scenario
) -> None:
    with store.session() as session:
        exercise = service.create_exercise(session, scenario=mcp)
        with pytest.raises(StateError, match="cannot become in_review"):
            service.end(session, exercise)
        with pytest.raises(StateError, match="must be running"):
            service.record(session, exercise, EventKind.DECISION, "too early")
        with pytest.raises(StateError, match="has not started"):
            service.resume(session, exercise)
        service.start(session, exercise)
        with pytest.raises(StateError, match="cannot become running"):
            service.start(session, exercise)
        service.set_phase(session, exercise)
        service.pause(session, exercise)
        # starting a paused run again would send it back to the first phase
        with pytest.raises(StateError, match="resume it"):
            service.start(session, exercise)
        assert service.clock_of(exercise).phase == Phase.CONTAINMENT


# PostgreSQL only: SQLite serialises writers at BEGIN IMMEDIATE, so this interleaving
# cannot happen there (tests/integration/test_store_races.py covers SQLite's concurrency).
@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_two_processes_cannot_both_pause(
    store: Store, fake_clock: FakeClock, mcp: Scenario
) -> None:
    with store.session() as session:
        exercise = service.create_exercise(session, scenario=mcp)
        service.start(session, exercise)
        exercise_id = exercise.id
    with store.session() as console:
        stale = service.get_exercise(console, exercise_id)  # read before the other acts
        assert stale.status == ExerciseStatus.RUNNING
        with store.session() as web:
            service.pause(web, service.get_exercise(web, exercise_id), reason="web")
        with pytest.raises(StateError, match="changed by someone else"):
            service.pause(console, stale, reason="console")
        console.rollback()
    with store.session() as session:
        exercise = service.get_exercise(session, exercise_id)
        assert [e.text for e in exercise.events if e.kind == EventKind.STATUS_CHANGED] == [
            "exercise started",
            "web",
        ]


def test_default_exercise_is_the_running_one(
    store: Store, fake_clock: FakeClock, mcp: Scenario
) -> None:
    with store.session() as session:
        with pytest.raises(NotFoundError):
            service.get_exercise(session)
        first = service.create_exercise(session, scenario=mcp)
        assert service.get_exercise(session).id == first.id
        second = service.create_exercise(session, scenario=mcp)
        with pytest.raises(StateError, match="several"):
            service.get_exercise(session)
        service.start(session, second)
        assert service.get_exercise(session).id == second.id
        assert service.list_exercises(session, status="Running") == [second]
        with pytest.raises(StateError, match="unknown exercise status 'bogus'"):
            service.list_exercises(session, status="bogus")
        assert service.get_exercise(session, f"EX-{first.id}").id == first.id


@pytest.mark.parametrize(("minutes", "met"), [(3, True), (18, False)])
def test_ic_identified_within_five_minutes(
    store: Store, fake_clock: FakeClock, mcp: Scenario, minutes: int, met: bool
) -> None:
    with store.session() as session:
        exercise = service.create_exercise(session, scenario=mcp)
        service.start(session, exercise)
        # a pause before the assignment must not count against the team
        fake_clock.advance(timedelta(minutes=1))
        service.pause(session, exercise)
        fake_clock.advance(timedelta(minutes=30))
        service.resume(session, exercise)
        fake_clock.advance(timedelta(minutes=minutes - 1))
        service.assign_roles(session, exercise, {"incident_lead": "alice"})
        assigned = exercise.events[-1].id
        exercise_id = exercise.id
    # the role assignment is only a suggestion until someone names it as the evidence
    assert _results(store, exercise_id)["Incident commander identified within 5 minutes"] is (
        None if met else False
    )
    with store.session() as session:
        exercise = service.get_exercise(session, exercise_id)
        fake_clock.advance(timedelta(minutes=20))  # tagging later keeps the event's own time
        service.tag_evidence(session, exercise, assigned, ["C1"], author="fran")
    results = _results(store, exercise_id)
    assert results["Incident commander identified within 5 minutes"] is met


def test_criteria_and_unanswered_injects(
    store: Store, fake_clock: FakeClock, mcp: Scenario
) -> None:
    with store.session() as session:
        exercise = service.create_exercise(
            session, scenario=mcp, assignments={"incident_commander": "alice"}
        )
        service.start(session, exercise)
        service.drop_inject(session, exercise)
        fake_clock.advance(timedelta(minutes=15))
        service.drop_inject(session, exercise)  # no decision after inject 1 nor 2
        service.set_phase(session, exercise, Phase.CONTAINMENT)
        fake_clock.advance(timedelta(minutes=15))
        service.drop_inject(session, exercise)
        fake_clock.advance(timedelta(minutes=5))
        service.record(
            session, exercise, EventKind.DECISION, "quarantine the MCP server", meets=["2"]
        )
        fake_clock.advance(timedelta(minutes=40))
        service.record(
            session, exercise, EventKind.DECISION, "data scope: 250GB of queries", meets=["C3"]
        )
        service.end(session, exercise)
        exercise_id = exercise.id
        unanswered = unanswered_injects(exercise.events)
    results = _results(store, exercise_id)
    # assigned before the start, but nobody named it as evidence: missed, with a suggestion
    assert results["Incident commander identified within 5 minutes"] is False
    # the containment decision came at T+35, after its T+30 deadline
    assert results["Containment decision (offline vs. quarantine) at t+30 or earlier"] is False
    assert results["Data scope quantified by t+60"] is False  # T+75
    assert results["Customer comms drafted by t+90"] is False
    assert [u.inject.data["number"] for u in unanswered] == [1, 2]
    assert unanswered[1].offset == timedelta(minutes=15)
