"""What a generated agent scenario tests: the approvals, allow-lists and credentials.

The second seed's agent scenarios (wrong-team data exposure, a tool that fired without
approval, a prompt injection that worked, exfiltration through an MCP server) are about
controls the team believes it has. Naming them from ``inventory.yaml`` tells the
facilitator what the room must prove: which risky tool needs a human's sign-off and
whether that gate is wired, what the agent is allowed to reach (its tools, the services
and MCP servers behind them, other teams' data, context files), and which credentials
someone must be able to revoke, fast.
"""

from __future__ import annotations

from drillbook.domain.inventory.models import Agent, Inventory
from drillbook.domain.scenario.models import Scenario


def agent_controls(inventory: Inventory, agent: Agent) -> list[str]:
    """One line per control the exercise tests for ``agent``, prefixed by its kind."""
    lines = []
    tools = inventory.agent_tools(agent)
    for tool in tools:
        if tool.risk.acts_on_the_world:
            gate = "a gate is wired" if agent.approval_gate else "no gate is wired"
            lines.append(
                f"approval: a human signs off before {agent.name} calls {tool.name} "
                f"({tool.risk.label}); {gate}"
            )
    allowed = ", ".join(agent.tools) or "no tools"
    lines.append(f"allow-list: {agent.name} may call only {allowed}")
    services = sorted({t.service for t in tools if t.service})
    if services:
        lines.append(f"allow-list: the services behind its tools: {', '.join(services)}")
    if agent.spans_teams:
        lines.append(f"allow-list: data of teams {', '.join(agent.spans_teams)} is in reach")
    if agent.context_files:
        lines.append(f"allow-list: context files it reads: {', '.join(agent.context_files)}")
    for key in agent.api_keys:
        lines.append(f"credential: who can revoke {key}, and how fast")
    if not agent.api_keys:
        lines.append(
            f"credential: the inventory names no key for {agent.name}; which one does it use"
        )
    customers = [
        c.name
        for c in inventory.customers
        if c.top and (agent.product is None or c.product in (None, agent.product))
    ]
    if customers:
        lines.append(f"customers it touches: {', '.join(customers)}")
    return lines


def agents_in(inventory: Inventory, scenario: Scenario) -> list[Agent]:
    """The inventory's agents the scenario is about: named in its title or injects."""
    text = " ".join([scenario.title, *(i.description for i in scenario.injects)])
    return [a for a in inventory.agents if a.name in text]


def controls_tested(inventory: Inventory, scenario: Scenario) -> list[str]:
    lines: list[str] = []
    for agent in agents_in(inventory, scenario):
        lines += [line for line in agent_controls(inventory, agent) if line not in lines]
    return lines
