"""Tools for the fix list (pass 3): draft it from the timeline, rank it, follow it up."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from drillbook import clock
from drillbook.mcp.context import ExerciseId, McpContext, Name, tool_errors
from drillbook.mcp.schemas import DraftView, FollowupItemView, FollowupView, RankedFix

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer


def register(server: MCPServer, ctx: McpContext) -> None:
    @server.tool()
    @tool_errors
    def finding_draft(
        exercise_id: ExerciseId,
        use_model: Annotated[
            bool,
            Field(
                description="Ask the configured LLM endpoint; falls back to the deterministic "
                "draft, and the exchange is kept on the timeline."
            ),
        ] = False,
        save: Annotated[bool, Field(description="Open one finding per drafted gap.")] = False,
    ) -> DraftView:
        """Pass 3: gaps from the observer's notes, the timeline and missed criteria, each
        tagged policy, configuration or training, with the evidence it came from."""
        from drillbook.flows.finding_draft import (
            deterministic_result,
            draft_with_model,
            save_drafts,
        )

        program = ctx.library().program
        endpoint = None
        if use_model:
            from drillbook.planning.llm_client import resolve_endpoint

            endpoint = resolve_endpoint(program.llm if program else None)
        with ctx.session() as session:
            exercise = ctx.exercise(session, exercise_id)
            if endpoint is not None:
                result = draft_with_model(session, exercise, endpoint, author=ctx.agent)
            else:
                result = deterministic_result(exercise)
            saved = (
                save_drafts(
                    session,
                    exercise,
                    result.gaps,
                    sla=program.sla if program else None,
                    author=ctx.agent,
                )
                if save
                else []
            )
            return DraftView.model_validate(
                {
                    "exercise": result.exercise,
                    "by_model": result.by_model,
                    "notice": result.notice,
                    "gaps": [g.model_dump(mode="json") for g in result.gaps],
                    "saved": [f.id for f in saved],
                }
            )

    @server.tool()
    @tool_errors
    def finding_rank(
        team: Name | None = None, limit: Annotated[int, Field(ge=1, le=200)] = 20
    ) -> list[RankedFix]:
        """Open fixes ranked by how likely the same gap bites again in a real incident."""
        from drillbook.domain.finding.rank_store import rank_open_fixes

        team = ctx.scoped_team(team)
        scenarios = [loaded.scenario for loaded in ctx.library().scenarios.values()]
        with ctx.session() as session:
            ranked = rank_open_fixes(session, scenarios, clock.today(), team=team, limit=limit)
            return [
                RankedFix(
                    rank=index + 1,
                    id=r.finding.id,
                    score=r.score,
                    change_type=r.change_type,
                    capability=r.finding.capability,
                    severity=r.finding.severity,
                    owner=r.finding.owner,
                    description=r.finding.description,
                    recurred_in=list(r.recurred_in),
                    why=r.why,
                )
                for index, r in enumerate(ranked)
            ]

    @server.tool()
    @tool_errors
    def followup(
        days: Annotated[int | None, Field(ge=0, le=3650)] = None,
        team: Name | None = None,
        record: Annotated[
            bool, Field(description="Mark the exercises as followed up on their timelines.")
        ] = False,
        limit: Annotated[
            int,
            Field(
                ge=1,
                le=1000,
                description="At most this many items, the fixes that did not move first "
                "(a program's follow-up covers thousands; total and unmoved count them all).",
            ),
        ] = 200,
    ) -> FollowupView:
        """Each fix from a reported exercise with whether it moved; unmoved ones carry over
        to the next brief. Unmoved fixes come first, and at most ``limit`` are listed."""
        from drillbook.documents.durations import parse_duration
        from drillbook.flows.followup import followup_items, record_followup

        team = ctx.scoped_team(team)
        if days is None:
            program = ctx.library().program
            days = parse_duration(program.cadence.followup_after).days if program else 30
        with ctx.session() as session:
            items = followup_items(session, days=days, team=team)
            recorded = record_followup(session, items, author=ctx.agent) if record else []
            # an agent's context is small: the fixes that did not move first (a stable
            # sort keeps the run order within each), then cut to the limit
            shown = sorted(items, key=lambda i: i.moved)[:limit]
            return FollowupView(
                days=days,
                recorded=list(recorded),
                total=len(items),
                unmoved=sum(1 for i in items if not i.moved),
                items=[
                    FollowupItemView(
                        exercise=i.exercise.label,
                        finding=i.finding.id,
                        moved=i.moved,
                        status=i.status,
                        owner=i.finding.owner,
                        target_date=i.finding.target_date,
                        last_change=i.last_change,
                    )
                    for i in shown
                ],
            )
