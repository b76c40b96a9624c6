"""Generated agent scenarios say which approvals, allow-lists and credentials they test,
named from inventory.yaml (the second seed's agent scenarios)."""

from __future__ import annotations

import pytest

from drillbook.domain.inventory.service import load_inventory
from drillbook.domain.scenario.enums import Category
from drillbook.planning.controls import agent_controls, agents_in, controls_tested
from drillbook.planning.generate import GenerateRequest, generate_scenario
from tests.helpers import FILES

INVENTORY = FILES / "inventory" / "three-agents.yaml"


def test_controls_name_the_real_gates_tools_services_and_keys() -> None:
    inventory = load_inventory(INVENTORY)
    support = inventory.agent("support-assistant")
    assert support is not None
    lines = agent_controls(inventory, support)
    assert lines == [
        "approval: a human signs off before support-assistant calls crm-write (crm write); "
        "no gate is wired",
        "approval: a human signs off before support-assistant calls send-email "
        "(outbound email); no gate is wired",
        "allow-list: support-assistant may call only crm-write, send-email, kb-search",
        "allow-list: the services behind its tools: crm-mcp, kb-mcp, mail-relay",
        "allow-list: data of teams support, sales is in reach",
        "allow-list: context files it reads: pricing-2026.md, escalation-playbook.md",
        "credential: who can revoke key-support-prod, and how fast",
        "customers it touches: Contoso Health",
    ]
    billing = inventory.agent("billing-agent")
    assert billing is not None
    assert (
        "approval: a human signs off before billing-agent calls issue-refund "
        "(payment refund); a gate is wired"
    ) in agent_controls(inventory, billing)


@pytest.mark.parametrize(
    ("category", "agent"),
    [
        (Category.WRONG_TEAM_DATA_EXPOSURE, "sales-copilot"),
        (Category.IMPROPER_TOOL_FIRE, "billing-agent"),
        (Category.PROMPT_INJECTION, "support-assistant"),
        (Category.DATA_EXFILTRATION, "support-assistant"),
    ],
)
def test_generated_agent_scenarios_say_what_they_test(category: Category, agent: str) -> None:
    inventory = load_inventory(INVENTORY)
    scenario = generate_scenario(inventory, GenerateRequest(category, seed=1, agent=agent))
    assert scenario.summary is not None
    assert "This exercise tests: " in scenario.summary
    chosen = inventory.agent(agent)
    assert chosen is not None
    for line in agent_controls(inventory, chosen):
        assert line in scenario.summary
    assert agent in [a.name for a in agents_in(inventory, scenario)]
    assert set(agent_controls(inventory, chosen)) <= set(controls_tested(inventory, scenario))
