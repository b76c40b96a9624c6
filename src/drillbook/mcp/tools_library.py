"""Tools over the library: the inventory, the scenarios, generate and lint one."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from drillbook import clock
from drillbook.domain.inventory.models import Inventory
from drillbook.domain.scenario.enums import Category
from drillbook.domain.scenario.models import Scenario
from drillbook.errors import ConflictError, Problem
from drillbook.mcp.context import McpContext, Name, tool_errors
from drillbook.mcp.schemas import GeneratedScenario, LintView, ProblemView, ScenarioSummary

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer


def problem_view(problem: Problem) -> ProblemView:
    return ProblemView(
        location=str(problem.location),
        level=problem.level,
        code=problem.code,
        message=problem.message,
    )


def lint_file(path: Path) -> list[ProblemView]:
    """Schema and reviewer's checks of one scenario file, as the `lint` command runs them."""
    from drillbook.errors import LibraryError
    from drillbook.flows.lint_rules import ScenarioContext, check_scenario
    from drillbook.library.loader import load_scenario_file

    try:
        loaded = load_scenario_file(path)
    except LibraryError as exc:
        return [problem_view(p) for p in exc.problems]
    context = ScenarioContext(loaded=loaded, today=clock.today(), review_every=_REVIEW)
    return [problem_view(p) for p in check_scenario(context)]


_REVIEW = timedelta(weeks=13)
"""Staleness is the library lint's business; a single-file check uses the default."""


def register(server: MCPServer, ctx: McpContext) -> None:
    def inventory() -> Inventory:
        from drillbook.domain.inventory.service import inventory_path, load_inventory

        return load_inventory(inventory_path(ctx.require_root()))

    @server.tool()
    @tool_errors
    def inventory_show() -> Inventory:
        """The team's agents, their tools and risk classes, services, customers and people
        (inventory.yaml)."""
        return inventory()

    @server.tool()
    @tool_errors
    def scenario_list(
        category: Annotated[Category | None, Field(description="Only this type.")] = None,
    ) -> list[ScenarioSummary]:
        """Every scenario in the library and the built-in corpus."""
        found = []
        for loaded in sorted(ctx.library().scenarios.values(), key=lambda s: s.scenario.id):
            s = loaded.scenario
            if category is not None and s.category != category:
                continue
            found.append(
                ScenarioSummary(
                    id=s.id,
                    title=s.title,
                    category=str(s.category) if s.category else None,
                    difficulty=str(s.difficulty) if s.difficulty else None,
                    duration=s.duration,
                    builtin=loaded.builtin,
                )
            )
        return found

    @server.tool()
    @tool_errors
    def scenario_show(scenario_id: Name) -> Scenario:
        """One scenario: statement, injects, decision points, success criteria."""
        return ctx.library().scenario(scenario_id).scenario

    @server.tool()
    @tool_errors
    def scenario_lint(scenario_id: Name) -> LintView:
        """The reviewer's checks on one scenario (timing, roles, measurable criteria)."""
        loaded = ctx.library().scenario(scenario_id)
        return LintView(scenario_id=scenario_id, problems=lint_file(loaded.path))

    @server.tool()
    @tool_errors
    def scenario_generate(
        category: Category,
        agent: Annotated[Name | None, Field(description="Agent name from inventory.yaml.")] = None,
        seed: Annotated[int, Field(ge=0, le=1_000_000)] = 0,
        duration_minutes: Annotated[int, Field(ge=20, le=480)] = 60,
        save: Annotated[bool, Field(description="Write it to the library's scenarios/.")] = True,
        overwrite: bool = False,
        use_model: Annotated[
            bool, Field(description="Let the configured LLM endpoint rewrite the prose.")
        ] = False,
    ) -> GeneratedScenario:
        """Pass 1: a scenario built from the real agents, tools, people and customers,
        linted; it names the approvals, allow-lists and credentials it tests."""
        from drillbook.domain.inventory.service import inventory_path, require_agent
        from drillbook.library.loader import SCENARIO_DIR
        from drillbook.planning.controls import controls_tested
        from drillbook.planning.generate import GenerateRequest, generate_scenario, scenario_text

        root = ctx.require_root()
        stock = inventory()
        if agent is not None:
            require_agent(stock, agent, inventory_path(root))
        request = GenerateRequest(
            category=category, seed=seed, agent=agent, duration_minutes=duration_minutes
        )
        scenario = generate_scenario(stock, request)
        notice = None
        if use_model:
            scenario, notice = _rewritten(ctx, scenario)
        text = scenario_text(scenario)
        target = root / SCENARIO_DIR / f"{scenario.id}.yaml"
        if save:
            if target.exists() and not overwrite:
                raise ConflictError(
                    f"{SCENARIO_DIR}/{target.name} already exists; pass overwrite=true "
                    "or another seed"
                )
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            problems = lint_file(target)
        else:
            with tempfile.TemporaryDirectory() as scratch:
                draft = Path(scratch) / target.name
                draft.write_text(text, encoding="utf-8")
                problems = lint_file(draft)
        return GeneratedScenario(
            scenario_id=scenario.id,
            title=scenario.title,
            path=f"{SCENARIO_DIR}/{target.name}" if save else None,
            problems=problems,
            tests=controls_tested(stock, scenario),
            notice=notice,
            text=text,
        )


def _rewritten(ctx: McpContext, scenario: Scenario) -> tuple[Scenario, str]:
    from drillbook.planning.llm import rewrite_prose
    from drillbook.planning.llm_client import resolve_endpoint

    program = ctx.library().program
    endpoint = resolve_endpoint(program.llm if program else None)
    result = rewrite_prose(
        scenario,
        url=endpoint.url,
        model=endpoint.model,
        api_key=endpoint.api_key,
        timeout=endpoint.timeout,
    )
    return result.scenario, result.notice
