"""Resources (scenarios, reports, findings documents) and the prompts for the three passes."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError

from drillbook.errors import DrillbookError
from drillbook.mcp.context import McpContext

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_EXERCISE = re.compile(r"^(?:EX-)?[0-9]{1,9}$")


def _checked(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.fullmatch(value):
        raise ResourceNotFoundError(f"{value[:40]!r} is not a {what}")
    return value


def register(server: MCPServer, ctx: McpContext) -> None:
    @server.resource("drillbook://scenarios/{scenario_id}", mime_type="application/yaml")
    def scenario_resource(scenario_id: str) -> str:
        """A scenario as its YAML file."""
        from drillbook.planning.generate import scenario_text

        _checked(scenario_id, _NAME, "scenario id")
        try:
            loaded = ctx.library().scenario(scenario_id)
        except DrillbookError as exc:
            raise ResourceNotFoundError(str(exc)) from None
        return scenario_text(loaded.scenario)

    @server.resource("drillbook://reports/{exercise_id}", mime_type="text/markdown")
    def report_resource(exercise_id: str) -> str:
        """An exercise's report as Markdown (reading it does not mark it reported)."""
        from drillbook.flows.exercise_report import build_report
        from drillbook.reports.render import ReportFormat, render

        _checked(exercise_id, _EXERCISE, "exercise id")
        program = ctx.library().program
        try:
            with ctx.session() as session:
                exercise = ctx.exercise(session, exercise_id)
                content = render(build_report(session, exercise, program), ReportFormat.MARKDOWN)
        except DrillbookError as exc:
            raise ResourceNotFoundError(str(exc)) from None
        if not isinstance(content, str):
            raise ResourceError("the Markdown renderer returned bytes")
        return content

    @server.resource("drillbook://findings/{exercise_id}", mime_type="application/yaml")
    def findings_resource(exercise_id: str) -> str:
        """An exercise's findings document, in the seed's shape (as `finding export`)."""
        from drillbook.flows.exercise_findings import export_text

        _checked(exercise_id, _EXERCISE, "exercise id")
        try:
            with ctx.session() as session:
                return export_text(session, ctx.exercise(session, exercise_id))[1]
        except DrillbookError as exc:
            raise ResourceNotFoundError(str(exc)) from None

    @server.prompt()
    def scenario_pass(category: str, agent: str = "") -> str:
        """Pass 1: generate a scenario tailored to the team's real agents."""
        chosen = f" about the agent {agent}" if agent else ""
        return (
            f"Read the inventory with inventory_show. Generate a {category} scenario{chosen} "
            "with scenario_generate, then read its lint problems and the approvals, "
            "allow-lists and credentials it tests. If a problem is an error, generate again "
            "with another seed. Add one uncomfortable, real detail in your summary to the "
            "facilitator: a real customer, agent or channel from the inventory."
        )

    @server.prompt()
    def plan_pass(scenario_id: str) -> str:
        """Pass 2: the facilitator's minute-by-minute script with escalations."""
        return (
            f"Plan a session of {scenario_id} with exercise_plan (ask for variations the team "
            "needs: distributed, first_tabletop, regulated with jurisdictions). Check that "
            "new information drops at least every 15 minutes and that escalations stop the "
            "Incident Lead from solving it in five minutes. Then exercise_create with the "
            "seats filled and exercise_brief 24 hours before."
        )

    @server.prompt()
    def fixlist_pass(exercise_id: str) -> str:
        """Pass 3: the fix list from the observer's notes, ranked by likelihood of reuse."""
        return (
            f"After {exercise_id} ends, draft the gaps with finding_draft. Each gap is tagged "
            "policy, configuration or training and cites timeline events: check every one "
            "against exercise_timeline and drop any that the evidence does not support. "
            "Save the rest (save=true), then rank them with finding_rank, and write the "
            "report with exercise_report. Every fix needs an owner and a date before anyone "
            "leaves the room."
        )
