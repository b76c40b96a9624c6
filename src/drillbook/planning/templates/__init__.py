"""Per-category scenario templates: the text a generated scenario is made of.

A template is data, not code: format strings whose ``{placeholders}`` are filled from the
inventory (see :data:`PLACEHOLDERS`). Where a template offers alternatives (first
signals), the generator's seeded ``random.Random`` picks one, so the same inventory and
seed always give the same text.
"""

from __future__ import annotations

from dataclasses import dataclass

from drillbook.domain.scenario.enums import Category, Difficulty, Severity

PLACEHOLDERS = (
    "agent",
    "agent_team",
    "audience",
    "tool",
    "tool_risk",
    "service",
    "customer",
    "other_team",
    "oncall",
    "tech",
    "channel",
    "org",
    "api_key",
    "context_file",
    "product",
    "most_used",
    "gate",
)


@dataclass(frozen=True)
class Decision:
    """A decision for one phase: the question, the options, what to establish first."""

    question: str
    options: tuple[str, ...]
    figure_out: tuple[str, ...]


@dataclass(frozen=True)
class Template:
    """What is specific to one incident type; communication and review are shared."""

    title: str
    severity: Severity
    difficulty: Difficulty
    tags: tuple[str, ...]
    situation: str
    signals: tuple[str, ...]
    developments: tuple[str, str]
    detection: Decision
    containment: Decision
    data_at_risk: str
    containment_choice: str
    needs_tool: bool = False


def template_for(category: Category) -> Template:
    """The template of ``category``; every Category value has one (tested)."""
    from drillbook.planning.templates.agent import AGENT_TEMPLATES
    from drillbook.planning.templates.classic import CLASSIC_TEMPLATES

    return {**AGENT_TEMPLATES, **CLASSIC_TEMPLATES}[category]
