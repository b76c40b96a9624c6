"""Tools for chaos drills: validate a plan, read scorecards, and (only when the server was
started with ``--allow-drills``) run a plan, still under its safety profile."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from drillbook.mcp.context import McpContext, Name, inside, tool_errors
from drillbook.mcp.schemas import DrillCheckView, DrillRunView, ScorecardSummary

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer

DRILLS = "drills"
RESULTS = "drill-results"
SUFFIXES = (".yaml", ".yml")


def register(server: MCPServer, ctx: McpContext) -> None:
    @server.tool()
    @tool_errors
    def drill_validate(plan: Name) -> list[DrillCheckView]:
        """Check a plan in the library's drills/ and say what each technique would do under
        its safety profile (runs nothing)."""
        from drillbook.flows.drill_run import prepare_plan

        root = ctx.require_root()
        prepared = prepare_plan(inside(root / DRILLS, plan, SUFFIXES), atomics=None, library=root)
        return [
            DrillCheckView(
                plan=prepared.loaded.path.name,
                technique=tech.technique,
                name=tech.name,
                decision="will run" if reason is None else str(decision.value),
                reason=reason,
            )
            for (tech, _), (decision, reason) in zip(
                prepared.techniques, prepared.decisions, strict=True
            )
        ]

    @server.tool()
    @tool_errors
    def scorecard_list() -> list[str]:
        """The scorecards in the library's drill-results/ (newest first)."""
        folder = ctx.require_root() / RESULTS
        if not folder.is_dir():
            return []
        names = [p.stem for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file()]
        return sorted(names, reverse=True)

    @server.tool()
    @tool_errors
    def scorecard_read(name: Name) -> ScorecardSummary:
        """One scorecard: which expected detections fired, time to alert, failures."""
        from drillbook.domain.scorecard.document import load_scorecard

        path = inside(ctx.require_root() / RESULTS, name, SUFFIXES)
        return ScorecardSummary(name=path.stem, document=load_scorecard(path).to_document())

    if not ctx.allow_drills:
        return

    @server.tool()
    @tool_errors
    def drill_run(plan: Name) -> DrillRunView:
        """Detonate a plan's techniques under its safety profile, then clean up. Only
        offered when the server was started with --allow-drills."""
        from drillbook.domain.drill import service
        from drillbook.flows.drill_run import run_drill

        root = ctx.require_root()
        store = ctx.store()
        run_id = run_drill(store, inside(root / DRILLS, plan, SUFFIXES), library=root)
        with store.session() as session:
            record = service.get_run(session, run_id)
            techniques: list[dict[str, Any]] = [
                {
                    "technique": t.technique,
                    "name": t.name,
                    "status": t.status,
                    "reason": t.reason,
                    "exit_code": t.exit_code,
                    "cleanup": t.cleanup_outcome,
                    "telemetry_captured": t.telemetry_captured,
                }
                for t in record.technique_runs
            ]
            return DrillRunView(
                id=record.id,
                plan=record.plan_name,
                status=record.status,
                abort_reason=record.abort_reason,
                techniques=techniques,
            )
