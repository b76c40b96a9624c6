"""Commands: ``drillbook exercise ...`` - create, run and report a tabletop exercise.

Every command that acts on an exercise takes its id (``3`` or ``EX-3``) and defaults to
the one running in this library, so a facilitator mid-exercise types ``drillbook exercise
decide "take it offline"`` and nothing more. Each command is one short transaction: what
it logs is stored before it returns.
"""

from __future__ import annotations

import getpass
import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from drillbook.cli.app import exercise_app
from drillbook.cli.context import state
from drillbook.cli.exercise_console import logged_line, run_session, status_panel
from drillbook.cli.output import console, print_json, table
from drillbook.domain.exercise import service
from drillbook.domain.exercise.enums import EventKind
from drillbook.domain.exercise.evaluation import evaluate_criteria, offsets
from drillbook.domain.exercise.models import Exercise, ExerciseEvent
from drillbook.domain.exercise.timeline import ExerciseClock, format_offset
from drillbook.domain.program.models import Program
from drillbook.domain.scenario.enums import Phase
from drillbook.errors import StateError
from drillbook.flows.exercise_report import build_report, mark_reported
from drillbook.planning.roles import assign_roles
from drillbook.reports.render import ReportFormat, render

ExerciseArg = Annotated[
    str | None,
    typer.Argument(
        help="Exercise id (3 or EX-3). Default: the one running in this library.",
        show_default=False,
    ),
]
ExerciseOpt = Annotated[
    str | None,
    typer.Option(
        "--exercise", "-e", help="Exercise id. Default: the one running.", show_default=False
    ),
]
ByOpt = Annotated[
    str | None,
    typer.Option("--by", help="Who did or said it (default: your login name).", show_default=False),
]
RoleOpt = Annotated[
    str | None,
    typer.Option(
        "--role", help="Their role (default: the role they were assigned).", show_default=False
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def author(by: str | None) -> str:
    if by:
        return by
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return "observer"


def parse_assignments(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        role, sep, person = value.partition("=")
        if not sep or not role.strip() or not person.strip():
            raise StateError(f"'{value}' is not ROLE=PERSON (e.g. incident_commander=alice)")
        out[role.strip()] = person.strip()
    return out


def seat_warnings(exercise: Exercise, program: Program | None) -> list[str]:
    """The planner's view of the seats as they now stand (doubled seats, empty ones)."""
    scenario = service.scenario_of(exercise)
    if scenario is None:
        return []
    return assign_roles(scenario, service.current_roles(exercise), program).warnings


def event_dict(event: ExerciseEvent, offset: str) -> dict[str, Any]:
    return {
        "id": event.id,
        "offset": offset,
        "at": event.at,
        "kind": event.kind,
        "author": event.author,
        "role": event.role,
        "phase": event.phase,
        "text": event.text,
        "data": event.data,
    }


def clock_dict(exercise: Exercise, clock: ExerciseClock) -> dict[str, Any]:
    """``exercise status --json``: the read model the web API serves too."""
    from drillbook.domain.exercise.views import status_view

    return status_view(exercise, clock).model_dump()


def _logged(exercise: Exercise, event: ExerciseEvent, as_json: bool) -> None:
    if as_json:
        print_json(event_dict(event, format_offset(offsets(exercise.events)[event.id])))
        return
    console.print(logged_line(exercise, event), markup=False)


@exercise_app.command("create")
def create(
    ctx: typer.Context,
    scenario_id: Annotated[str, typer.Argument(metavar="SCENARIO", help="Scenario id.")],
    run_date: Annotated[
        str | None, typer.Option("--date", help="YYYY-MM-DD (default today).", show_default=False)
    ] = None,
    team: Annotated[str | None, typer.Option("--team", help="Team that runs it.")] = None,
    role: Annotated[
        list[str] | None,
        typer.Option("--role", help="ROLE=PERSON, repeatable (incident_commander=alice)."),
    ] = None,
    title: Annotated[
        str | None, typer.Option("--title", help="Title (default: scenario's).")
    ] = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan a run of SCENARIO on a date with people in roles."""
    st = state(ctx)
    library = st.library()
    scenario, program = library.scenario(scenario_id).scenario, library.program
    assignments = parse_assignments(role or [])
    when = date.fromisoformat(run_date) if run_date else None
    with st.store().session() as session:
        exercise = service.create_exercise(
            session, scenario=scenario, run_date=when, team=team, title=title, author=author(by)
        )
        service.assign_roles(session, exercise, assignments, author=author(by))
        warnings = seat_warnings(exercise, program)
        if as_json:
            print_json({"id": exercise.id, "exercise": exercise.label, "warnings": warnings})
            return
        console.print(
            f"created {exercise.label}: {exercise.title} on "
            f"{exercise.run_date.isoformat()} (status planned)",
            markup=False,
        )
        for warning in warnings:
            console.print(f"warning: {warning}", style="yellow", markup=False)
        console.print(f"start it with: drillbook exercise start {exercise.id}", markup=False)


@exercise_app.command("assign")
def assign(
    ctx: typer.Context,
    assignments: Annotated[
        list[str], typer.Argument(metavar="ROLE=PERSON...", help="Roles to (re)assign.")
    ],
    exercise_id: ExerciseOpt = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Assign roles; each assignment is a timestamped timeline event."""
    program = state(ctx).library().program
    with state(ctx).store().session() as session:
        exercise = service.get_exercise(session, exercise_id)
        service.assign_roles(session, exercise, parse_assignments(assignments), author=author(by))
        warnings = seat_warnings(exercise, program)
        if as_json:
            print_json({"roles": service.current_roles(exercise), "warnings": warnings})
            return
        event = exercise.events[-1]
        _logged(exercise, event, False)
        for warning in warnings:
            console.print(f"warning: {warning}", style="yellow", markup=False)


def _lifecycle(
    ctx: typer.Context, exercise_id: str | None, action: str, by: str | None, as_json: bool
) -> None:
    with state(ctx).store().session() as session:
        exercise = service.get_exercise(session, exercise_id)
        who = author(by)
        if action == "start":
            event = service.start(session, exercise, author=who)
        elif action == "brief":
            service.mark_briefed(session, exercise, author=who)
            event = exercise.events[-1]
        elif action == "pause":
            event = service.pause(session, exercise, author=who)
        elif action == "resume":
            event = service.resume(session, exercise, author=who)
        else:
            event = service.end(session, exercise, author=who)
        if as_json:
            print_json(clock_dict(exercise, service.clock_of(exercise)))
            return
        _logged(exercise, event, False)
        if action == "end":
            console.print(
                f"write the report: drillbook exercise report {exercise.id}", markup=False
            )


@exercise_app.command("start")
def start(
    ctx: typer.Context, exercise_id: ExerciseArg = None, by: ByOpt = None, as_json: JsonOpt = False
) -> None:
    """Start the clock (and the first phase)."""
    _lifecycle(ctx, exercise_id, "start", by, as_json)


@exercise_app.command("pause")
def pause(
    ctx: typer.Context, exercise_id: ExerciseArg = None, by: ByOpt = None, as_json: JsonOpt = False
) -> None:
    """Stop the clock; paused time does not count against the team."""
    _lifecycle(ctx, exercise_id, "pause", by, as_json)


@exercise_app.command("resume")
def resume(
    ctx: typer.Context, exercise_id: ExerciseArg = None, by: ByOpt = None, as_json: JsonOpt = False
) -> None:
    """Restart the clock after a pause."""
    _lifecycle(ctx, exercise_id, "resume", by, as_json)


@exercise_app.command("end")
def end(
    ctx: typer.Context, exercise_id: ExerciseArg = None, by: ByOpt = None, as_json: JsonOpt = False
) -> None:
    """End the exercise; it goes into review until the report is written."""
    _lifecycle(ctx, exercise_id, "end", by, as_json)


@exercise_app.command("phase")
def phase(
    ctx: typer.Context,
    name: Annotated[
        Phase | None,
        typer.Argument(help="Phase to move to (default: the next one).", show_default=False),
    ] = None,
    exercise_id: ExerciseOpt = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move to the next phase (detection, containment, communication, review)."""
    with state(ctx).store().session() as session:
        exercise = service.get_exercise(session, exercise_id)
        event = service.set_phase(session, exercise, name, author=author(by))
        _logged(exercise, event, as_json)


@exercise_app.command("inject")
def inject(
    ctx: typer.Context,
    number: Annotated[
        int | None,
        typer.Option(
            "--number",
            "-n",
            help="Scheduled inject number (default: the next one).",
            show_default=False,
        ),
    ] = None,
    text: Annotated[
        str | None,
        typer.Option(
            "--text", help="Drop an ad hoc inject with this text instead.", show_default=False
        ),
    ] = None,
    exercise_id: ExerciseOpt = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Drop the next scheduled inject, or an ad hoc one with --text."""
    with state(ctx).store().session() as session:
        exercise = service.get_exercise(session, exercise_id)
        event = service.drop_inject(session, exercise, number=number, text=text, author=author(by))
        _logged(exercise, event, as_json)


def _record(
    ctx: typer.Context,
    kind: EventKind,
    text: str,
    exercise_id: str | None,
    by: str | None,
    role: str | None,
    as_json: bool,
) -> None:
    with state(ctx).store().session() as session:
        exercise = service.get_exercise(session, exercise_id)
        event = service.record(session, exercise, kind, text, author=author(by), role=role)
        _logged(exercise, event, as_json)


@exercise_app.command("decide")
def decide(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The decision.")],
    exercise_id: ExerciseOpt = None,
    by: ByOpt = None,
    role: RoleOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Log a decision the team made (with its time and phase)."""
    _record(ctx, EventKind.DECISION, text, exercise_id, by, role, as_json)


@exercise_app.command("note")
def note(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The note.")],
    exercise_id: ExerciseOpt = None,
    by: ByOpt = None,
    role: RoleOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Log a note (also allowed before the start and after the end)."""
    _record(ctx, EventKind.NOTE, text, exercise_id, by, role, as_json)


@exercise_app.command("observe")
def observe(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="What you saw.")],
    exercise_id: ExerciseOpt = None,
    by: ByOpt = None,
    role: RoleOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Log an observer's observation."""
    _record(ctx, EventKind.OBSERVATION, text, exercise_id, by, role, as_json)


@exercise_app.command("status")
def status(ctx: typer.Context, exercise_id: ExerciseArg = None, as_json: JsonOpt = False) -> None:
    """The clock (pauses excluded), phase, injects due, roles."""
    with state(ctx).store().session() as session:
        exercise = service.get_exercise(session, exercise_id)
        if as_json:
            print_json(clock_dict(exercise, service.clock_of(exercise)))
        else:
            console.print(status_panel(exercise))


@exercise_app.command("list")
def list_(
    ctx: typer.Context,
    status_filter: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Only this team.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every exercise in the store."""
    with state(ctx).store().session() as session:
        found = service.list_exercises(session, status=status_filter, team=team)
        rows = [clock_dict(e, service.clock_of(e)) for e in found]
        if as_json:
            print_json(rows)
            return
        console.print(
            table(
                "Exercises",
                ["Id", "Date", "Scenario", "Team", "Status", "Clock"],
                [
                    (r["exercise"], r["date"], r["scenario"], r["team"], r["status"], r["elapsed"])
                    for r in rows
                ],
            )
        )


@exercise_app.command("show")
def show(ctx: typer.Context, exercise_id: ExerciseArg = None, as_json: JsonOpt = False) -> None:
    """One exercise: clock, roles, success criteria so far."""
    with state(ctx).store().session() as session:
        exercise = service.get_exercise(session, exercise_id)
        scenario = service.scenario_of(exercise)
        results = evaluate_criteria(scenario.criteria, exercise.events) if scenario else []
        data = clock_dict(exercise, service.clock_of(exercise))
        data["participants"] = exercise.participants
        data["criteria"] = [
            {"text": r.criterion.text, "met": r.met, "detail": r.reason} for r in results
        ]
        if as_json:
            print_json(data)
            return
        console.print(status_panel(exercise))
        console.print(
            table(
                "Success criteria",
                ["Criterion", "Outcome", "Detail"],
                [
                    (
                        r.criterion.text,
                        {True: "met", False: "MISSED", None: "not assessed"}[r.met],
                        r.reason,
                    )
                    for r in results
                ],
            )
        )


@exercise_app.command("timeline")
def timeline(ctx: typer.Context, exercise_id: ExerciseArg = None, as_json: JsonOpt = False) -> None:
    """Every event with its exercise time (T+mm:ss) and UTC time."""
    with state(ctx).store().session() as session:
        exercise = service.get_exercise(session, exercise_id)
        at = offsets(exercise.events)
        rows = [event_dict(e, format_offset(at[e.id])) for e in exercise.events]
        if as_json:
            print_json(rows)
            return
        console.print(
            table(
                f"{exercise.label} timeline",
                ["Time", "UTC", "Kind", "Phase", "Who", "What"],
                [
                    (
                        r["offset"],
                        r["at"].strftime("%H:%M:%S"),
                        r["kind"],
                        r["phase"],
                        r["author"] + (f" ({r['role']})" if r["role"] else "")
                        if r["author"]
                        else r["role"],
                        r["text"],
                    )
                    for r in rows
                ],
            )
        )


@exercise_app.command("report")
def report(
    ctx: typer.Context,
    exercise_id: ExerciseArg = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="md, html or pdf.")
    ] = ReportFormat.MARKDOWN,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to FILE.", show_default=False)
    ] = None,
    counsel: Annotated[
        bool,
        typer.Option(
            "--counsel", help="Label it prepared at the direction of counsel; limit distribution."
        ),
    ] = False,
    distribution: Annotated[
        list[str] | None,
        typer.Option("--distribution", help="Who may read it (with --counsel), repeatable."),
    ] = None,
    by: ByOpt = None,
) -> None:
    """Write the dated tabletop report (marks an ended exercise as reported)."""
    st = state(ctx)
    program = st.library().program
    with st.store().session() as session:
        exercise = service.get_exercise(session, exercise_id)
        data = build_report(session, exercise, program, counsel=counsel, distribution=distribution)
        content = render(data, fmt)
        if output is None and isinstance(content, bytes):
            raise StateError("a PDF report needs -o FILE")
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                output.write_bytes(content)
            else:
                output.write_text(content, encoding="utf-8")
        else:
            typer.echo(content, nl=False)
        mark_reported(session, exercise, author=author(by), path=str(output) if output else None)
        if output is not None:
            console.print(f"wrote {output}", markup=False)


@exercise_app.command("run")
def run(ctx: typer.Context, exercise_id: ExerciseArg = None, by: ByOpt = None) -> None:
    """Observer's console: a live view; every typed line is a timestamped observation.

    Commands: /decide TEXT, /note TEXT, /phase [NAME], /inject [TEXT], /assign ROLE=PERSON,
    /pause, /resume, /end, /status, /quit (leave; the exercise keeps running), /help.
    """
    store = state(ctx).store()
    with store.session() as session:
        exercise = service.get_exercise(session, exercise_id)
        chosen = exercise.id
    run_session(store, chosen, author(by))
