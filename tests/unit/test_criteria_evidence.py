"""Success criteria are open until their deadline and met only by evidence that names
them; the live view's next-inject countdown skips injects already due."""

from __future__ import annotations

from datetime import timedelta

import pytest

from drillbook.clock import FakeClock
from drillbook.domain.exercise import service
from drillbook.domain.exercise.enums import EventKind
from drillbook.domain.exercise.evaluation import CriterionState, evaluate_criteria
from drillbook.domain.exercise.views import criteria_view, injects_view
from drillbook.domain.scenario.models import Scenario
from drillbook.errors import NotFoundError
from drillbook.library.loader import load_scenario_file
from drillbook.storage.engine import Store
from tests.helpers import SEED


def _scenario(criteria: list[object]) -> Scenario:
    seed = load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    document = seed.model_dump(mode="json", exclude_none=True)
    document["success_criteria"] = criteria
    return Scenario.model_validate(document)


CRITERIA: list[object] = [
    {
        "id": "ic",
        "text": "Incident commander named",
        "by": "5m",
        "evidence": {"event": "role_assigned", "role": "incident_commander"},
    },
    "Exfiltrated data scoped to tool calls and vendors by t+30",
    "Containment decision at t+20 or earlier",
]


def _states(exercise_id: int, store: Store) -> dict[str, CriterionState]:
    with store.session() as session:
        exercise = service.get_exercise(session, exercise_id)
        scenario = service.scenario_of(exercise)
        assert scenario is not None
        results = evaluate_criteria(scenario.criteria, exercise.events, service.clock_of(exercise))
        return {r.key: r.state for r in results}


def test_keywords_suggest_but_never_decide(sqlite_store: Store, fake_clock: FakeClock) -> None:
    with sqlite_store.session() as session:
        exercise = service.create_exercise(session, scenario=_scenario(CRITERIA))
        assert service.scenario_of(exercise) is not None
        service.start(session, exercise)
        fake_clock.advance(timedelta(minutes=2))
        # the explicit mapping in the scenario decides, with no tag
        service.assign_roles(session, exercise, {"incident_lead": "alice"})
        fake_clock.advance(timedelta(minutes=8))
        service.set_phase(session, exercise)  # containment
        # the case: shares words ("vendor") with C2, but names nothing
        service.record(
            session, exercise, EventKind.DECISION, "Rotate vendor API tokens used through MCP"
        )
        exercise_id = exercise.id
    states = _states(exercise_id, sqlite_store)
    assert states == {"ic": "met", "C2": "open", "C3": "open"}
    with sqlite_store.session() as session:
        exercise = service.get_exercise(session, exercise_id)
        shown = {c["key"]: c for c in criteria_view(exercise, None, service.clock_of(exercise))}
        assert shown == {}  # no scenario, nothing to score
        scenario = service.scenario_of(exercise)
        shown = {c["key"]: c for c in criteria_view(exercise, scenario, service.clock_of(exercise))}
    assert shown["ic"]["evidence"][0]["source"] == "scenario mapping"
    assert shown["ic"]["evidence"][0]["offset"] == "T+02:00"
    # the containment decision is offered as a suggestion for C3, not counted
    assert shown["C3"]["suggestions"][0]["text"].startswith("Rotate vendor")
    assert shown["C3"]["evidence"] == []
    fake_clock.advance(timedelta(minutes=11))  # T+21: C3's deadline passed, C2's not yet
    assert _states(exercise_id, sqlite_store) == {"ic": "met", "C2": "open", "C3": "missed"}
    with sqlite_store.session() as session:
        exercise = service.get_exercise(session, exercise_id)
        decision = next(e for e in exercise.events if e.kind == EventKind.DECISION)
        # confirming the suggestion late keeps the decision's own time (T+10 < T+20)
        service.tag_evidence(session, exercise, decision.id, ["3"], author="fran")
        with pytest.raises(NotFoundError, match=r"criteria: ic, C2, C3"):
            service.record(session, exercise, EventKind.NOTE, "x", meets=["C9"])
        with pytest.raises(NotFoundError, match="no event 999"):
            service.tag_evidence(session, exercise, 999, ["C2"])
    assert _states(exercise_id, sqlite_store)["C3"] == "met"
    fake_clock.advance(timedelta(minutes=10))  # T+31
    assert _states(exercise_id, sqlite_store)["C2"] == "missed"


def test_criterion_without_deadline_is_open_until_the_end(
    sqlite_store: Store, fake_clock: FakeClock
) -> None:
    with sqlite_store.session() as session:
        exercise = service.create_exercise(
            session, scenario=_scenario(["Documented decisions in the channel"])
        )
        assert _states_in(session, exercise) == {"C1": "open"}  # planned: open, not missed
        service.start(session, exercise)
        fake_clock.advance(timedelta(hours=3))
        assert _states_in(session, exercise) == {"C1": "open"}
        service.end(session, exercise)
        assert _states_in(session, exercise) == {"C1": "missed"}


def _states_in(session: object, exercise: object) -> dict[str, str]:
    from drillbook.domain.exercise.models import Exercise

    assert isinstance(exercise, Exercise)
    scenario = service.scenario_of(exercise)
    assert scenario is not None
    return {
        r.key: str(r.state)
        for r in evaluate_criteria(scenario.criteria, exercise.events, service.clock_of(exercise))
    }


def test_next_inject_counts_down_past_injects_already_due(
    sqlite_store: Store, fake_clock: FakeClock
) -> None:
    """At T+16 with injects 1 (0m) and 2 (15m) not yet dropped, two are due now and the
    next new information (inject 3, at 30m) is 14 minutes away: not "no more"."""
    scenario = load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    with sqlite_store.session() as session:
        exercise = service.create_exercise(session, scenario=scenario)
        service.start(session, exercise)
        fake_clock.advance(timedelta(minutes=16))
        view = injects_view(service.clock_of(exercise))
        assert view["injects_due"] == [1, 2]
        assert view["injects_pending"] == 4
        assert view["next_inject"] == 1  # what `exercise inject` drops next
        assert view["next_inject_at"] == "30m"
        assert view["next_inject_in"] == "14:00"
        for _ in range(4):
            service.drop_inject(session, exercise)
        view = injects_view(service.clock_of(exercise))
        assert view["next_inject_in"] is None
        assert view["injects_pending"] == 0
