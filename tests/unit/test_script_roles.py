"""planning.roles.assign_roles: seats, aliases and the warnings the seed asks for."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.domain.program.models import Program
from drillbook.domain.scenario.models import Scenario
from drillbook.errors import ConfigError
from drillbook.library.loader import load_scenario_file
from drillbook.planning.roles import assign_roles, canonical_role, parse_assignments


@pytest.fixture
def scenario(seed_dir: Path) -> Scenario:
    return load_scenario_file(seed_dir / "scenarios" / "data-exfil-via-mcp.yaml").scenario


PROGRAM = Program.model_validate(
    {
        "organisation": "Northwind",
        "people": [
            {"id": "alice", "name": "Alice Moreno", "roles": ["incident_lead", "technical_lead"]},
            {"id": "bob", "roles": ["comms"]},
            {"id": "carol", "roles": []},
        ],
    }
)


def test_seats_cover_the_core_roles_and_the_scenarios_own(scenario: Scenario) -> None:
    plan = assign_roles(scenario, {}, None)
    roles = [s.role for s in plan.seats]
    assert roles[:4] == ["incident_commander", "comms_lead", "technical_lead", "observer"]
    assert {"security_lead", "engineering_owner", "legal", "facilitator"} <= set(roles)
    assert "comms" not in roles  # the seed's `comms` is the Comms Lead's seat
    facilitator = plan.seat("facilitator")
    assert facilitator is not None
    assert not facilitator.required
    assert any("Observer (observer) has nobody assigned" in w for w in plan.warnings)
    assert not any("Facilitator" in w for w in plan.warnings)


def test_aliases_and_clean_assignment(scenario: Scenario) -> None:
    plan = assign_roles(
        scenario,
        {
            "incident_lead": "alice",
            "comms": "bob",
            "tech_lead": "dave",
            "observer": "erin",
            "security_lead": "frank",
            "engineering_owner": "gina",
            "legal": "hal",
        },
        None,
    )
    assert plan.person_for("incident_commander") == "alice"
    assert plan.person_for("incident_lead") == "alice"
    assert plan.person_for("comms_lead") == "bob"
    assert plan.warnings == []


def test_one_person_two_seats_and_program_roles(scenario: Scenario) -> None:
    plan = assign_roles(
        scenario,
        {
            "incident_commander": "alice",
            "technical_lead": "alice",
            "comms_lead": "carol",
            "observer": "zed",
        },
        PROGRAM,
    )
    text = "\n".join(plan.warnings)
    assert "alice holds 2 roles (Incident Lead, Technical Lead)" in text
    assert "carol has no roles in drillbook.yaml" in text
    assert "zed is not listed in drillbook.yaml people" in text
    assert "alice is not listed" not in text  # incident_lead counts as incident_commander
    wrong = assign_roles(scenario, {"comms_lead": "Alice Moreno"}, PROGRAM)
    assert any("Alice Moreno is not listed for Comms Lead" in w for w in wrong.warnings)


def test_extra_roles_for_the_regulated_variation(scenario: Scenario) -> None:
    plan = assign_roles(scenario, {"regulator": "ivy"}, None, extra_roles=("regulator",))
    seat = plan.seat("regulator")
    assert seat is not None
    assert seat.required
    assert seat.person == "ivy"
    odd = assign_roles(scenario, {"astronaut": "kim"}, None)
    assert any("not part of this exercise" in w for w in odd.warnings)


def test_parse_assignments() -> None:
    assert parse_assignments(["Incident-Lead=alice", "comms = bob"]) == {
        "incident_commander": "alice",
        "comms_lead": "bob",
    }
    assert canonical_role("IC") == "incident_commander"
    with pytest.raises(ConfigError, match="ROLE=PERSON"):
        parse_assignments(["observer="])
