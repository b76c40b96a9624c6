"""``inventory.yaml``: what a generated exercise should touch.

The first seed asks for scenarios "tailored to your agent set": the real agent names, the
tools they can call, the customer profile, and one uncomfortable detail (the top customer,
the most-used agent, the real on-call engineer, the real channel). This file is where the
team writes those facts down once. Names are what the scenario text will use, so they are
kept exactly as written; references between sections (an agent's tools, its team, a
person's team) are checked by :mod:`drillbook.domain.inventory.service` with locations.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from drillbook.domain.scenario.enums import canonical_role

Name = Annotated[
    str,
    Field(
        min_length=1,
        max_length=80,
        pattern=r"^[^\s].*$",
        description="A name as your team says it, e.g. support-assistant or #incidents.",
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerProfile(StrEnum):
    """Who the customers are; it decides who must be told and how fast (first seed)."""

    B2B_SAAS = "b2b_saas"
    REGULATED = "regulated"
    CONSUMER = "consumer"

    @property
    def label(self) -> str:
        return {
            "b2b_saas": "business-to-business SaaS",
            "regulated": "regulated industry",
            "consumer": "consumer",
        }[self.value]


class RiskClass(StrEnum):
    """What a tool can do to the world; the seed names CRM write, outbound email, refund."""

    DATA_READ = "data_read"
    DATA_WRITE = "data_write"
    CRM_WRITE = "crm_write"
    OUTBOUND_EMAIL = "outbound_email"
    PAYMENT_REFUND = "payment_refund"
    CODE_EXECUTION = "code_execution"
    ADMIN = "admin"
    OTHER = "other"

    @property
    def acts_on_the_world(self) -> bool:
        """True for tools whose unapproved call is an incident on its own."""
        return self not in {RiskClass.DATA_READ, RiskClass.OTHER}

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class Tool(_Strict):
    name: Name
    risk: RiskClass
    service: Name | None = Field(default=None, description="Name of the service it calls.")
    description: str | None = None


class Agent(_Strict):
    name: Name
    team: Name | None = Field(default=None, description="Id of the owning team.")
    audience: str | None = Field(default=None, description="Who talks to it, e.g. customers.")
    tools: list[Name] = Field(default_factory=list, description="Names of tools it can call.")
    context_files: list[str] = Field(default_factory=list)
    approval_gate: bool = Field(
        default=False, description="True when a human approval gate is wired before risky calls."
    )
    api_keys: list[str] = Field(default_factory=list, description="Key names (never values).")
    spans_teams: list[Name] = Field(
        default_factory=list, description="Ids of the teams whose data it can reach."
    )
    calls_per_day: int | None = Field(default=None, ge=0, description="Usage, for 'most used'.")
    product: Name | None = None


class Service(_Strict):
    name: Name
    kind: str = Field(default="mcp_server", description="mcp_server, api, saas, database, ...")
    owner_team: Name | None = None


class Customer(_Strict):
    name: Name
    top: bool = Field(default=False, description="True for the customers you cannot lose.")
    product: Name | None = None


class Team(_Strict):
    id: Name
    name: str | None = None
    channel: Name | None = None
    sensitive_data: bool = Field(
        default=False,
        description="Holds sensitive data: onboarding it schedules an extra tabletop.",
    )


class Person(_Strict):
    name: Name
    team: Name | None = None
    on_call: list[str] = Field(
        default_factory=list,
        description="Exercise roles the person is on call for, e.g. incident_commander.",
    )
    channels: list[Name] = Field(default_factory=list)


class Channel(_Strict):
    name: Name
    purpose: str = Field(default="incident", description="incident, customer, internal, status")


class Product(_Strict):
    name: Name
    agents: list[Name] = Field(default_factory=list)


class Inventory(_Strict):
    """The whole file."""

    organisation: str | None = None
    customer_profile: CustomerProfile = CustomerProfile.B2B_SAAS
    agents: list[Agent] = Field(min_length=1, description="At least one AI agent.")
    tools: list[Tool] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)
    customers: list[Customer] = Field(default_factory=list)
    teams: list[Team] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)
    products: list[Product] = Field(default_factory=list)

    # -- look-ups -----------------------------------------------------------------------
    def agent(self, name: str) -> Agent | None:
        return next((a for a in self.agents if a.name == name), None)

    def tool(self, name: str) -> Tool | None:
        return next((t for t in self.tools if t.name == name), None)

    def team(self, team_id: str) -> Team | None:
        return next((t for t in self.teams if t.id == team_id), None)

    def agent_tools(self, agent: Agent) -> list[Tool]:
        return [t for name in agent.tools if (t := self.tool(name)) is not None]

    def most_used_agent(self) -> Agent:
        """The agent with the most calls per day (first listed when nobody counted)."""
        return max(self.agents, key=lambda a: a.calls_per_day or 0)

    def top_customers(self) -> list[Customer]:
        flagged = [c for c in self.customers if c.top]
        return flagged or self.customers[:1]

    def on_call(self, role: str) -> list[Person]:
        """The people on call for ``role``'s seat, whichever spelling either side uses
        (``incident_lead``, ``ic`` and ``incident_commander`` are one seat)."""
        seat = canonical_role(role)
        return [p for p in self.people if seat in {canonical_role(r) for r in p.on_call}]

    def incident_channel(self) -> str | None:
        chosen = next((c for c in self.channels if c.purpose == "incident"), None)
        if chosen:
            return chosen.name
        return self.channels[0].name if self.channels else None

    def product(self, name: str) -> Product | None:
        return next((p for p in self.products if p.name == name), None)
