"""Tools that plan, brief and run a tabletop exercise, and write its report (pass 2)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from drillbook.domain.exercise.enums import EventKind
from drillbook.domain.scenario.enums import Phase
from drillbook.errors import StateError
from drillbook.mcp.context import ExerciseId, McpContext, Name, Person, Text, tool_errors
from drillbook.mcp.schemas import DocumentView, EventView, ExerciseView, PlanView

if TYPE_CHECKING:
    from mcp.server.mcpserver import MCPServer
    from sqlalchemy.orm import Session

    from drillbook.domain.exercise.models import Exercise, ExerciseEvent

Roles = Annotated[
    dict[Name, Person],
    Field(description="Seat -> person, e.g. {incident_commander: alice}.", max_length=20),
]
Jurisdictions = Annotated[
    list[Name], Field(description="GDPR, NIS2, SEC, HIPAA, NYDFS, DORA, EU_AI_ACT.", max_length=7)
]


def _event(exercise: Exercise, event: ExerciseEvent) -> EventView:
    from drillbook.domain.exercise.evaluation import offsets

    return EventView.of(event, offsets(exercise.events))


def register(server: MCPServer, ctx: McpContext) -> None:
    def acting(
        exercise_id: str, action: str, *, by: str | None = None, **options: object
    ) -> EventView:

        who = by or ctx.agent
        with ctx.session() as session:
            exercise = ctx.exercise(session, exercise_id)
            event = _act(session, exercise, action, who, options)
            return _event(exercise, event)

    @server.tool()
    @tool_errors
    def exercise_plan(
        scenario_id: Name,
        duration_minutes: Annotated[int | None, Field(ge=10, le=480)] = None,
        distributed: bool = False,
        first_tabletop: bool = False,
        regulated: bool = False,
        jurisdictions: Jurisdictions | None = None,
        roles: Roles | None = None,
        use_model: Annotated[
            bool, Field(description="Let the LLM endpoint word escalations, add variations.")
        ] = False,
    ) -> PlanView:
        """Pass 2: the facilitator's minute-by-minute script with escalations and the
        variations asked for (video, first tabletop, regulator clocks)."""
        from drillbook.planning.regulatory import parse_jurisdiction
        from drillbook.planning.render import OutputFormat, render_script
        from drillbook.planning.roles import assign_roles
        from drillbook.planning.script import build_script
        from drillbook.planning.variations import Variations

        library = ctx.library()
        scenario = library.scenario(scenario_id).scenario
        variations = Variations(
            duration_minutes=duration_minutes,
            distributed=distributed,
            first_tabletop=first_tabletop,
            regulated=regulated,
            jurisdictions=tuple(parse_jurisdiction(j) for j in (jurisdictions or [])),
        )
        seats = assign_roles(
            scenario, dict(roles or {}), library.program, extra_roles=variations.extra_roles()
        )
        script = build_script(scenario, variations, seats)
        notice = None
        if use_model:
            from drillbook.planning.llm_client import (
                EXCHANGE_DIR,
                resolve_endpoint,
                save_exchange,
            )
            from drillbook.planning.llm_plan import reword_script

            section = library.program.llm if library.program else None
            result = reword_script(scenario, script, resolve_endpoint(section))
            script, notice = result.script, result.notice
            save_exchange(ctx.require_root() / EXCHANGE_DIR, result.exchange)
        data = script.as_dict()
        return PlanView(
            scenario=data["scenario"],
            title=data["title"],
            duration_minutes=data["duration_minutes"],
            variations=data["variations"],
            timeline=data["timeline"],
            observer_checklist=data["observer_checklist"],
            notice=notice,
            markdown=render_script(script, OutputFormat.MD),
        )

    @server.tool()
    @tool_errors
    def exercise_brief(exercise_id: ExerciseId) -> DocumentView:
        """The pre-read for a planned exercise (roles, statement, time-box, carried-over
        fixes; no injects); marks it briefed."""
        from drillbook.flows.exercise_brief import brief_inputs, mark_brief_sent
        from drillbook.planning.brief import build_brief
        from drillbook.planning.render import OutputFormat, render_brief
        from drillbook.planning.roles import assign_roles

        library = ctx.library()
        with ctx.session() as session:
            ctx.exercise(session, exercise_id)
            stored = brief_inputs(session, exercise_id)
            scenario = library.scenario(stored.scenario_id).scenario
            seats = assign_roles(scenario, dict(stored.roles), library.program)
            made = build_brief(
                scenario, seats, carry_over=stored.carry_over, program=library.program
            )
            mark_brief_sent(session, exercise_id, author=ctx.agent)
            return DocumentView(
                exercise=stored.exercise, markdown=render_brief(made, OutputFormat.MD)
            )

    @server.tool()
    @tool_errors
    def exercise_create(
        scenario_id: Name,
        run_date: date | None = None,
        team: Name | None = None,
        roles: Roles | None = None,
        title: Annotated[str | None, Field(max_length=200)] = None,
    ) -> ExerciseView:
        """Plan a run of a scenario on a date, with people in its seats."""
        from drillbook.domain.exercise import service
        from drillbook.planning.roles import assign_roles

        library = ctx.library()
        scenario = library.scenario(scenario_id).scenario
        with ctx.session() as session:
            exercise = service.create_exercise(
                session,
                scenario=scenario,
                run_date=run_date,
                team=ctx.scoped_team(team),
                title=title,
                author=ctx.agent,
            )
            service.assign_roles(session, exercise, dict(roles or {}), author=ctx.agent)
            warnings = assign_roles(
                scenario, service.current_roles(exercise), library.program
            ).warnings
            return ExerciseView.of(exercise, warnings)

    @server.tool()
    @tool_errors
    def exercise_status(exercise_id: ExerciseId) -> ExerciseView:
        """The clock (pauses excluded), phase, next inject and seats."""

        with ctx.session() as session:
            return ExerciseView.of(ctx.exercise(session, exercise_id))

    @server.tool()
    @tool_errors
    def exercise_timeline(exercise_id: ExerciseId) -> list[EventView]:
        """Every event with its exercise time (T+mm:ss)."""
        from drillbook.domain.exercise.evaluation import offsets

        with ctx.session() as session:
            exercise = ctx.exercise(session, exercise_id)
            at = offsets(exercise.events)
            return [EventView.of(e, at) for e in exercise.events]

    @server.tool()
    @tool_errors
    def exercise_start(exercise_id: ExerciseId) -> EventView:
        """Start the clock and the first phase."""
        return acting(exercise_id, "start")

    @server.tool()
    @tool_errors
    def exercise_pause(exercise_id: ExerciseId) -> EventView:
        """Stop the clock; paused time does not count."""
        return acting(exercise_id, "pause")

    @server.tool()
    @tool_errors
    def exercise_resume(exercise_id: ExerciseId) -> EventView:
        """Restart the clock after a pause."""
        return acting(exercise_id, "resume")

    @server.tool()
    @tool_errors
    def exercise_end(exercise_id: ExerciseId) -> EventView:
        """End the exercise; it is in review until the report is written."""
        return acting(exercise_id, "end")

    @server.tool()
    @tool_errors
    def exercise_phase(exercise_id: ExerciseId, phase: Phase | None = None) -> EventView:
        """Move to a phase (default: the next one)."""
        return acting(exercise_id, "phase", phase=phase)

    @server.tool()
    @tool_errors
    def exercise_inject(
        exercise_id: ExerciseId,
        number: Annotated[int | None, Field(ge=1, le=1000)] = None,
        text: Annotated[str | None, Field(min_length=1, max_length=4000)] = None,
    ) -> EventView:
        """Drop the next scheduled inject, a numbered one, or an ad hoc one with text."""
        return acting(exercise_id, "inject", number=number, text=text)

    @server.tool()
    @tool_errors
    def exercise_decide(
        exercise_id: ExerciseId, text: Text, by: Person | None = None, role: Name | None = None
    ) -> EventView:
        """Log a decision the team made (with its time and phase)."""
        return acting(exercise_id, "decision", by=by, text=text, role=role)

    @server.tool()
    @tool_errors
    def exercise_note(
        exercise_id: ExerciseId, text: Text, by: Person | None = None, role: Name | None = None
    ) -> EventView:
        """Log a note (allowed before the start and after the end too)."""
        return acting(exercise_id, "note", by=by, text=text, role=role)

    @server.tool()
    @tool_errors
    def exercise_observe(
        exercise_id: ExerciseId, text: Text, by: Person | None = None, role: Name | None = None
    ) -> EventView:
        """Log the observer's observation (what the room did, or failed to do)."""
        return acting(exercise_id, "observation", by=by, text=text, role=role)

    @server.tool()
    @tool_errors
    def exercise_report(exercise_id: ExerciseId, counsel: bool = False) -> DocumentView:
        """Write the dated report (Markdown); marks an ended exercise as reported. Also
        readable later as the resource drillbook://reports/{exercise_id}."""
        from drillbook.flows.exercise_report import build_report, mark_reported
        from drillbook.reports.render import ReportFormat, render

        program = ctx.library().program
        with ctx.session() as session:
            exercise = ctx.exercise(session, exercise_id)
            content = render(
                build_report(session, exercise, program, counsel=counsel), ReportFormat.MARKDOWN
            )
            if not isinstance(content, str):
                raise StateError("the Markdown renderer returned bytes")
            mark_reported(session, exercise, author=ctx.agent)
            return DocumentView(exercise=exercise.label, markdown=content)


def _act(
    session: Session, exercise: Exercise, action: str, who: str, options: dict[str, object]
) -> ExerciseEvent:
    from drillbook.domain.exercise import service

    if action == "start":
        return service.start(session, exercise, author=who)
    if action == "pause":
        return service.pause(session, exercise, author=who)
    if action == "resume":
        return service.resume(session, exercise, author=who)
    if action == "end":
        return service.end(session, exercise, author=who)
    if action == "phase":
        phase = options.get("phase")
        return service.set_phase(
            session, exercise, phase if isinstance(phase, Phase) else None, author=who
        )
    if action == "inject":
        number, text = options.get("number"), options.get("text")
        return service.drop_inject(
            session,
            exercise,
            number=number if isinstance(number, int) else None,
            text=text if isinstance(text, str) else None,
            author=who,
        )
    kind = EventKind(action)
    role = options.get("role")
    return service.record(
        session,
        exercise,
        kind,
        str(options["text"]),
        author=who,
        role=role if isinstance(role, str) else None,
    )
