"""Generate a tailored tabletop scenario from the inventory (first seed, Admin-Agent pass 1).

The seed's prompt asks for a one-page brief "tailored to my setup": the real agents and
tools, the customer profile, a T+ timeline (T+0 the first signal, then every 10 to 15
minutes), one decision point per phase, what the Incident Lead must figure out at each
step, and one uncomfortable detail (the top customer by name, the most-used agent, the
real on-call engineer, the real channel). This module does that without a model: every
choice comes from the inventory and one ``random.Random(seed)``, so the same inventory and
seed give a byte-identical file. :mod:`drillbook.planning.llm` may rewrite the prose.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any

from drillbook.documents.yaml_io import dump_text
from drillbook.domain.inventory.models import Agent, CustomerProfile, Inventory, Tool
from drillbook.domain.scenario.enums import Category, Phase
from drillbook.domain.scenario.models import (
    IDENTIFIER_MAX_LENGTH,
    DecisionPoint,
    Escalation,
    Inject,
    Participant,
    PhaseWindow,
    Scenario,
    default_phase_windows,
    phase_at,
)
from drillbook.errors import ConfigError, NotFoundError
from drillbook.planning.controls import agent_controls
from drillbook.planning.templates import Decision, Template, template_for

MIN_GAP, MAX_GAP = 10, 15
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday")


@dataclass(frozen=True)
class GenerateRequest:
    """What the user asked for on the command line."""

    category: Category
    seed: int = 0
    agent: str | None = None
    customer_profile: CustomerProfile | None = None
    duration_minutes: int = 60


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "agent"


def _scenario_id(category: Category, agent: str, seed: int) -> str:
    """``<type>-<agent>-s<seed>``; the agent's part is cut to fit an id's length, which a
    long agent name with a large seed would otherwise pass."""
    prefix, suffix = category.value.replace("_", "-"), f"-s{seed}"
    room = IDENTIFIER_MAX_LENGTH - len(prefix) - len(suffix) - 1
    if room < 1:
        raise ConfigError(f"--seed {seed} is too long to go into a scenario id; pick a shorter one")
    return f"{prefix}-{_slug(agent)[:room].rstrip('-')}{suffix}"


def _fill(text: str, names: dict[str, str]) -> str:
    return text.format_map(names)


def _pick_agent(
    inventory: Inventory, request: GenerateRequest, template: Template, rng: random.Random
) -> Agent:
    if request.agent is not None:
        agent = inventory.agent(request.agent)
        if agent is None:
            known = ", ".join(a.name for a in inventory.agents)
            raise NotFoundError(f"no agent '{request.agent}' in the inventory (known: {known})")
        return agent
    candidates = list(inventory.agents)
    if template.needs_tool:
        risky = [
            a for a in candidates if any(t.risk.acts_on_the_world for t in inventory.agent_tools(a))
        ]
        candidates = risky or [a for a in candidates if a.tools] or candidates
    elif request.category == Category.WRONG_TEAM_DATA_EXPOSURE:
        candidates = [a for a in candidates if a.spans_teams] or candidates
    return rng.choice(candidates)


def _pick_tool(
    inventory: Inventory, agent: Agent, template: Template, rng: random.Random
) -> Tool | None:
    tools = inventory.agent_tools(agent)
    if template.needs_tool:
        risky = [t for t in tools if t.risk.acts_on_the_world]
        tools = risky or tools
        if not tools:
            raise NotFoundError(
                f"agent '{agent.name}' has no tools in the inventory; an improper tool fire "
                "needs an agent with at least one tool (add it under agents[].tools)"
            )
    if not tools:
        tools = list(inventory.tools)
    return rng.choice(tools) if tools else None


def _team_label(inventory: Inventory, team_id: str | None) -> str:
    if team_id is None:
        return "the owning team"
    team = inventory.team(team_id)
    return team.name if team is not None and team.name else team_id


def _names(
    inventory: Inventory, request: GenerateRequest, template: Template, rng: random.Random
) -> dict[str, str]:
    """Every placeholder's value, chosen from the inventory in a fixed order."""
    agent = _pick_agent(inventory, request, template, rng)
    tool = _pick_tool(inventory, agent, template, rng)
    service = tool.service if tool is not None and tool.service else None
    if service is None and inventory.services:
        service = inventory.services[0].name
    top = inventory.top_customers()
    other_teams = [t for t in agent.spans_teams if t != agent.team]
    other_teams += [t.id for t in inventory.teams if t.id != agent.team and t.id not in other_teams]
    leads = inventory.on_call("incident_commander") or list(inventory.people)
    oncall = rng.choice(leads).name if leads else "the on-call engineer"
    techs = [p for p in inventory.on_call("technical_lead") if p.name != oncall]
    techs = techs or [p for p in inventory.people if p.name != oncall]
    most_used = inventory.most_used_agent()
    return {
        "agent": agent.name,
        "agent_team": _team_label(inventory, agent.team),
        "audience": agent.audience or "its users",
        "tool": tool.name if tool is not None else f"{agent.name}'s integrations",
        "tool_risk": tool.risk.label if tool is not None else "write",
        "service": service or f"the MCP server behind {agent.name}",
        "customer": rng.choice(top).name if top else "your largest customer",
        "other_team": _team_label(inventory, other_teams[0]) if other_teams else "another team",
        "oncall": oncall,
        "tech": rng.choice(techs).name if techs else "the platform engineer",
        "channel": inventory.incident_channel() or "#incidents",
        "org": inventory.organisation or "your company",
        "api_key": agent.api_keys[0] if agent.api_keys else f"{agent.name}'s API key",
        "context_file": rng.choice(agent.context_files)
        if agent.context_files
        else "a shared context file",
        "product": agent.product or "",
        "most_used": most_used.name,
        "gate": "wired" if agent.approval_gate else "not wired",
    }


def _schedule(duration: int, rng: random.Random) -> list[int]:
    """T+0, then every 10 to 15 minutes, stopping five minutes before the end."""
    times = [0]
    while True:
        following = times[-1] + rng.randint(MIN_GAP, MAX_GAP)
        if following > duration - 5:
            return times
        times.append(following)


_EXTRA_INJECTS = (
    "Leadership asks {oncall} for a three-sentence summary for the board, within ten minutes.",
    "Support has 40 new tickets mentioning {agent}; they ask what to tell callers.",
    "The first containment step broke a workflow {customer} uses every day.",
    "Someone asks in {channel} whether this is related to last quarter's incident.",
)


def _injects(
    template: Template,
    names: dict[str, str],
    times: list[int],
    windows: list[PhaseWindow],
    rng: random.Random,
) -> list[Inject]:
    signal = rng.choice(template.signals)
    texts = [
        signal + " The page goes to {oncall}; the first messages land in {channel}.",
        template.developments[0],
        template.developments[1],
        "{customer}, your top customer, asks for a call today and a written timeline "
        "of what {agent} did with their data.",
    ]
    texts += list(_EXTRA_INJECTS)
    out = []
    for index, minute in enumerate(times):
        text = texts[index] if index < len(texts) else texts[4 + (index - 4) % 4]
        out.append(
            Inject(
                time=f"{minute}m", description=_fill(text, names), phase=phase_at(windows, minute)
            )
        )
    return out


def _decision(
    phase: PhaseWindow, decision: Decision, owner: str, names: dict[str, str]
) -> DecisionPoint:
    at = round(phase.middle_minute)
    return DecisionPoint(
        phase=phase.name,
        at=f"{at}m",
        owner_role=owner,
        question=_fill(decision.question, names),
        options=[_fill(o, names) for o in decision.options],
        must_figure_out=[_fill(f, names) for f in decision.figure_out],
    )


def _communication(template: Template, profile: CustomerProfile) -> Decision:
    figure = [
        "Which customers and how many users are affected",
        "What the contract with {customer} says about notice",
        "Who signs the message, and who reviews it",
    ]
    if profile == CustomerProfile.REGULATED:
        figure.append("Which regulators' notification clocks started, and when")
    return Decision(
        question="Notify {customer} now with what we know, or after we know more about "
        + template.data_at_risk
        + "?",
        options=("notify now", "notify after scoping"),
        figure_out=tuple(figure),
    )


_REVIEW = Decision(
    question="Which fixes get an owner and a date before anyone leaves the room?",
    options=("configuration change", "policy change", "training change"),
    figure_out=(
        "Which gap would show up first in a real incident",
        "Who owns each fix, and by when",
        "When the next rehearsal of this scenario is",
    ),
)


def _participants(
    names: dict[str, str], inventory: Inventory, profile: CustomerProfile, category: Category
) -> list[Participant]:
    comms = inventory.on_call("comms_lead")
    rows = [
        Participant(
            role="incident_commander",
            typical_attendee=names["oncall"],
            responsibilities="Incident Lead: runs the response, makes containment calls",
        ),
        Participant(
            role="comms_lead",
            typical_attendee=comms[0].name if comms else "customer success lead",
            responsibilities="Drafts the customer and internal messages",
        ),
        Participant(
            role="technical_lead",
            typical_attendee=names["tech"],
            responsibilities="Opens audit logs, revokes keys, disables agents",
        ),
        Participant(
            role="observer",
            typical_attendee="someone outside the response",
            responsibilities="Silent; logs the first three actions and timestamps",
        ),
        Participant(
            role="facilitator", required=False, responsibilities="Drops new information on schedule"
        ),
    ]
    if profile == CustomerProfile.REGULATED or category in {
        Category.REGULATOR_INQUIRY,
        Category.INSIDER,
    }:
        rows.append(
            Participant(
                role="legal",
                typical_attendee="counsel",
                responsibilities="Notification duties and privilege",
            )
        )
    return rows


def _escalations(
    names: dict[str, str], windows: list[PhaseWindow], duration: int, profile: CustomerProfile
) -> list[Escalation]:
    """The seed's cure for an Incident Lead who solves it in five minutes."""

    def at(minute: int) -> int:
        return round(minute * duration / 60)

    second = (
        f"{names['most_used']}, your most-used agent,"
        if names["most_used"] != names["agent"]
        else f"{names['service']}"
    )
    regulator = {
        CustomerProfile.REGULATED: "A regulator emails {org}: 'We have received a report "
        "concerning your service. Confirm by end of day whether a notifiable incident "
        "occurred.'",
        CustomerProfile.B2B_SAAS: "{customer}'s legal team emails, citing the contract's "
        "72-hour breach-notice clause.",
        CustomerProfile.CONSUMER: "A consumer-protection authority emails asking whether "
        "users' personal data was involved.",
    }[profile]
    plan = (
        (
            15,
            "if containment is agreed before 15m",
            "{customer}'s CTO calls your CEO directly: they saw it before you told them.",
        ),
        (30, "if nobody has mentioned regulators or contracts by 30m", regulator),
        (
            45,
            "if the Incident Lead declares the incident contained",
            f"A second incident appears: {second} shows the same pattern in {{channel}}.",
        ),
    )
    return [
        Escalation(
            trigger=trigger.replace("15m", f"{at(15)}m").replace("30m", f"{at(30)}m"),
            description=_fill(text, names),
            at=f"{at(minute)}m",
            phase=phase_at(windows, at(minute)),
        )
        for minute, trigger, text in plan
    ]


def _criteria(
    template: Template, windows: list[PhaseWindow], duration: int, profile: CustomerProfile
) -> list[str]:
    by = {w.name: round(w.end_minute) for w in windows}
    rows = [
        "Incident commander identified within 5 minutes",
        f"Affected data and accounts quantified by t+{by[Phase.DETECTION]}",
        f"Containment decision ({template.containment_choice}) by t+{by[Phase.CONTAINMENT]}",
        f"Customer message drafted by t+{by[Phase.COMMUNICATION]}",
        f"Every fix has an owner and a date by t+{duration}",
    ]
    if profile == CustomerProfile.REGULATED:
        rows.insert(4, f"Regulator notification decision by t+{by[Phase.COMMUNICATION]}")
    return rows


def _initial_state(
    inventory: Inventory,
    names: dict[str, str],
    template: Template,
    profile: CustomerProfile,
    rng: random.Random,
) -> str:
    day = rng.choice(_WEEKDAYS)
    hour = rng.randint(9, 16)
    minute = rng.choice((0, 15, 30, 45))
    scope = "; ".join(
        f"{a.name} ({', '.join(a.tools) if a.tools else 'no tools'})" for a in inventory.agents
    )
    lines = [
        f"It is {day}, {hour:02d}:{minute:02d} UTC, at {names['org']} ({profile.label} customers).",
        _fill(template.situation, names),
        f"Agents in scope and their tools: {scope}.",
        f"On call: {names['oncall']} (Incident Lead), {names['tech']} (Technical Lead). "
        f"Incidents are worked in {names['channel']}."
        if inventory.people
        else f"No on-call rota in the inventory; incidents are worked in {names['channel']}.",
    ]
    if names["product"]:
        lines.insert(1, f"Product in scope: {names['product']}.")
    return "\n".join(lines) + "\n"


def generate_scenario(inventory: Inventory, request: GenerateRequest) -> Scenario:
    """A scenario for ``request.category`` built from ``inventory`` and ``request.seed``."""
    rng = random.Random(request.seed)
    template = template_for(request.category)
    profile = request.customer_profile or inventory.customer_profile
    duration = request.duration_minutes
    names = _names(inventory, request, template, rng)
    windows = default_phase_windows(duration)
    times = _schedule(duration, rng)
    injects = _injects(template, names, times, windows, rng)
    by_phase = {w.name: w for w in windows}
    decisions = [
        _decision(by_phase[Phase.DETECTION], template.detection, "incident_commander", names),
        _decision(by_phase[Phase.CONTAINMENT], template.containment, "technical_lead", names),
        _decision(
            by_phase[Phase.COMMUNICATION], _communication(template, profile), "comms_lead", names
        ),
        _decision(by_phase[Phase.POST_INCIDENT_REVIEW], _REVIEW, "incident_commander", names),
    ]
    cut = {w.name: round(w.start_minute) for w in windows}
    questions = [
        f"At t+0, who does {names['oncall']} wake up, and what do they open first?",
        f"At t+{cut[Phase.CONTAINMENT]}: " + decisions[1].question,
        f"At t+{cut[Phase.COMMUNICATION]}, who tells {names['customer']}, and in what words?",
        "When does this become a regulator-reporting incident?",
        "Which single fix would have stopped this incident earliest?",
    ]
    summary = (
        f"Generated from the inventory (seed {request.seed}). Uncomfortable details: "
        f"{names['customer']} (top customer), {names['most_used']} (most-used agent), "
        f"{names['oncall']} (on call), {names['channel']} (real channel)."
    )
    agent = inventory.agent(names["agent"])
    if agent is not None:
        tested = agent_controls(inventory, agent)
        summary += " This exercise tests: " + "; ".join(tested) + "."
    document: dict[str, Any] = {
        "id": _scenario_id(request.category, names["agent"], request.seed),
        "title": _fill(template.title, names),
        "duration": f"{duration}m",
        "participants": _participants(names, inventory, profile, request.category),
        "initial_state": _initial_state(inventory, names, template, profile, rng),
        "injects": injects,
        "discussion_questions": questions,
        "success_criteria": _criteria(template, windows, duration, profile),
        "category": request.category,
        "severity": template.severity,
        "difficulty": template.difficulty,
        "summary": summary,
        "tags": list(template.tags),
        "phases": windows,
        "decision_points": decisions,
        "escalations": _escalations(names, windows, duration, profile),
    }
    return Scenario.model_validate(document)


def scenario_text(scenario: Scenario) -> str:
    """The YAML file for ``scenario``: seed keys first, unset extensions left out."""
    return dump_text(scenario.to_document())
