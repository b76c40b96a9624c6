"""Commands: ``drillbook exercise ...`` - create, run and report a tabletop exercise.

Every command that acts on an exercise takes ``-e/--exercise ID`` (``3`` or ``EX-3``;
the commands that took the id as an argument still accept it there) and defaults to the
one running in this library, so a facilitator mid-exercise types ``drillbook exercise
decide "take it offline"`` and nothing more. Each command is one short transaction: what
it logs is stored before it returns.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from drillbook.cli.app import exercise_app
from drillbook.cli.context import author, state
from drillbook.cli.exercise_console import logged_line, run_session, status_panel
from drillbook.cli.files import OutputOption, is_stdio, write_output
from drillbook.cli.output import FullOpt, console, print_json, table
from drillbook.clock import ensure_utc
from drillbook.domain.exercise import service
from drillbook.domain.exercise.enums import EventKind
from drillbook.domain.exercise.evaluation import offsets
from drillbook.domain.exercise.models import Exercise, ExerciseEvent
from drillbook.domain.exercise.timeline import ExerciseClock, format_offset
from drillbook.domain.exercise.views import criteria_view
from drillbook.domain.program.models import Program
from drillbook.domain.scenario.enums import Phase, parse_phase
from drillbook.errors import UsageError
from drillbook.flows.exercise_report import build_report, mark_reported
from drillbook.planning.roles import assign_roles
from drillbook.reports.render import ReportFormat, markdown_with_figures, render

ExerciseArg = Annotated[
    str | None,
    typer.Argument(
        metavar="[ID]",
        help="Same as -e/--exercise (accepted for scripts written before -e).",
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
MeetsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--meets",
        "-m",
        help="Success criterion this is evidence for (C2, 2 or its id; repeatable). "
        "Only tagged evidence (or the scenario's explicit mapping) meets a criterion.",
        show_default=False,
    ),
]


def which(positional: str | None, option: str | None) -> str | None:
    """The exercise named by ``-e`` or the old positional id (both: they must agree)."""
    if (
        positional
        and option
        and positional.strip().upper().removeprefix("EX-")
        != option.strip().upper().removeprefix("EX-")
    ):
        raise UsageError(f"two exercises given ({positional} and -e {option}); give one")
    return option or positional


def parse_assignments(values: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for value in values:
        role, sep, person = value.partition("=")
        if not sep or not role.strip() or not person.strip():
            raise UsageError(f"'{value}' is not ROLE=PERSON (e.g. incident_commander=alice)")
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


def _date_or_start(text: str | None) -> tuple[date | None, datetime | None]:
    """``--date``: a day, or a day and start time (UTC unless an offset is given)."""
    if text is None:
        return None, None
    try:
        if "T" in text.upper() or ":" in text:
            start = ensure_utc(datetime.fromisoformat(text.strip()))
            return start.date(), start
        return date.fromisoformat(text.strip()), None
    except ValueError:
        raise UsageError(
            f"--date {text!r}: write YYYY-MM-DD or a start time, e.g. 2026-05-04T14:00Z"
        ) from None


@exercise_app.command("create")
def create(
    ctx: typer.Context,
    scenario_id: Annotated[str, typer.Argument(metavar="SCENARIO", help="Scenario id.")],
    run_date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="YYYY-MM-DD, or a start time 2026-05-04T14:00Z (default today); the one "
            "date the brief, calendar file and report use.",
            show_default=False,
        ),
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
    when, start = _date_or_start(run_date)
    with st.store().session() as session:
        exercise = service.create_exercise(
            session, scenario=scenario, run_date=when, team=team, title=title, author=author(by)
        )
        if start is not None:
            service.reschedule(session, exercise, start, author=author(by))
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
    ctx: typer.Context,
    exercise_id: ExerciseArg = None,
    exercise: ExerciseOpt = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Start the clock (and the first phase)."""
    _lifecycle(ctx, which(exercise_id, exercise), "start", by, as_json)


@exercise_app.command("pause")
def pause(
    ctx: typer.Context,
    exercise_id: ExerciseArg = None,
    exercise: ExerciseOpt = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Stop the clock; paused time does not count against the team."""
    _lifecycle(ctx, which(exercise_id, exercise), "pause", by, as_json)


@exercise_app.command("resume")
def resume(
    ctx: typer.Context,
    exercise_id: ExerciseArg = None,
    exercise: ExerciseOpt = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Restart the clock after a pause."""
    _lifecycle(ctx, which(exercise_id, exercise), "resume", by, as_json)


@exercise_app.command("end")
def end(
    ctx: typer.Context,
    exercise_id: ExerciseArg = None,
    exercise: ExerciseOpt = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """End the exercise; it goes into review until the report is written."""
    _lifecycle(ctx, which(exercise_id, exercise), "end", by, as_json)


@exercise_app.command("phase")
def phase(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="[PHASE]",
            help="Phase to move to (default: the next one): detection, containment, "
            "communication, post_incident_review, or detect, contain, comms, review.",
            show_default=False,
        ),
    ] = None,
    exercise_id: ExerciseOpt = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move to the next phase (detection, containment, communication, review)."""
    with state(ctx).store().session() as session:
        exercise = service.get_exercise(session, exercise_id)
        event = service.set_phase(session, exercise, _phase(name), author=author(by))
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


def _phase(name: str | None) -> Phase | None:
    if name is None:
        return None
    try:
        return parse_phase(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _record(
    ctx: typer.Context,
    kind: EventKind,
    text: str,
    exercise_id: str | None,
    by: str | None,
    role: str | None,
    as_json: bool,
    meets: list[str] | None = None,
) -> None:
    with state(ctx).store().session() as session:
        exercise = service.get_exercise(session, exercise_id)
        event = service.record(
            session, exercise, kind, text, author=author(by), role=role, meets=meets or []
        )
        _logged(exercise, event, as_json)


@exercise_app.command("decide")
def decide(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The decision.")],
    exercise_id: ExerciseOpt = None,
    by: ByOpt = None,
    role: RoleOpt = None,
    meets: MeetsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Log a decision the team made (with its time and phase)."""
    _record(ctx, EventKind.DECISION, text, exercise_id, by, role, as_json, meets)


@exercise_app.command("note")
def note(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="The note.")],
    exercise_id: ExerciseOpt = None,
    by: ByOpt = None,
    role: RoleOpt = None,
    meets: MeetsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Log a note (also allowed before the start and after the end)."""
    _record(ctx, EventKind.NOTE, text, exercise_id, by, role, as_json, meets)


@exercise_app.command("observe")
def observe(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="What you saw.")],
    exercise_id: ExerciseOpt = None,
    by: ByOpt = None,
    role: RoleOpt = None,
    meets: MeetsOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Log an observer's observation."""
    _record(ctx, EventKind.OBSERVATION, text, exercise_id, by, role, as_json, meets)


@exercise_app.command("status")
def status(
    ctx: typer.Context,
    exercise_id: ExerciseArg = None,
    exercise: ExerciseOpt = None,
    full: FullOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The clock (pauses excluded), phase, injects due, roles."""
    with state(ctx).store().session() as session:
        found = service.get_exercise(session, which(exercise_id, exercise))
        if as_json:
            print_json(clock_dict(found, service.clock_of(found)))
        else:
            console.print(status_panel(found, full=full))


# exercises `exercise list` prints without --limit or --all (as `finding list`): a
# screenful of pages for the table, a page of JSON for a script
LIST_TABLE_PAGE = 200
LIST_JSON_PAGE = 1000


@exercise_app.command("list")
def list_(
    ctx: typer.Context,
    status_filter: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Only this team.")] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=1,
            help=f"At most this many (a page; without --limit the table shows "
            f"{LIST_TABLE_PAGE}, --json {LIST_JSON_PAGE}, and stderr says how to get the next "
            "page).",
            show_default=False,
        ),
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every matching exercise, not a page.")
    ] = False,
    cursor: Annotated[
        str | None,
        typer.Option("--cursor", help="Start after this exercise (EX-12: the next page's start)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The exercises in the store, in id order, a page at a time."""
    from drillbook.cli.streaming import more_hint

    if every and limit is not None:
        raise UsageError("--all and --limit: give one of them")
    if limit is None and not every:
        limit = LIST_JSON_PAGE if as_json else LIST_TABLE_PAGE
    after = service.parse_exercise_id(cursor) if cursor else None
    with state(ctx).store().reading() as session:
        found = service.list_exercises(
            session,
            status=status_filter,
            team=team,
            after=after,
            limit=None if limit is None else limit + 1,
        )
        more = limit is not None and len(found) > limit
        found = found[:limit]
        next_cursor = found[-1].label if more and found else None
        rows = [clock_dict(e, service.clock_of(e)) for e in found]
        if as_json:
            print_json(rows)
        else:
            console.print(
                table(
                    "Exercises",
                    ["Id", "Date", "Scenario", "Team", "Status", "Clock"],
                    [
                        (
                            r["exercise"],
                            r["date"],
                            r["scenario"],
                            r["team"],
                            r["status"],
                            r["elapsed"],
                        )
                        for r in rows
                    ],
                )
            )
    more_hint(next_cursor)


@exercise_app.command("show")
def show(
    ctx: typer.Context,
    exercise_id: ExerciseArg = None,
    exercise: ExerciseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One exercise: clock, roles, success criteria (open, met with evidence, missed)."""
    with state(ctx).store().session() as session:
        found = service.get_exercise(session, which(exercise_id, exercise))
        scenario = service.scenario_of(found)
        ticker = service.clock_of(found, scenario)
        data = clock_dict(found, ticker)
        data["participants"] = found.participants
        data["criteria"] = criteria_view(found, scenario, ticker)
        if as_json:
            print_json(data)
            return
        console.print(status_panel(found))
        console.print(
            table(
                "Success criteria",
                ["Key", "Criterion", "Due", "State", "Evidence"],
                [
                    (
                        c["key"],
                        c["text"],
                        c["deadline"] or "end",
                        Text(c["state"].upper() if c["state"] == "missed" else c["state"]),
                        _evidence_cell(c),
                    )
                    for c in data["criteria"]
                ],
            )
        )


def _evidence_cell(criterion: dict[str, Any]) -> str:
    lines = [
        f"{e['offset']} {e['kind']} #{e['event']}: {e['text'] or ''} ({e['source']})"
        for e in criterion["evidence"]
    ] or [criterion["detail"]]
    lines += [
        f"suggested #{e['event']} at {e['offset']}: {e['text'] or ''} "
        f"(confirm: drillbook exercise tag {e['event']} {criterion['key']})"
        for e in criterion["suggestions"]
    ]
    return "\n".join(lines)


@exercise_app.command("tag")
def tag(
    ctx: typer.Context,
    event_id: Annotated[int, typer.Argument(metavar="EVENT", help="Event number (timeline).")],
    criteria: Annotated[
        list[str], typer.Argument(metavar="CRITERION...", help="C2, 2 or the criterion's id.")
    ],
    exercise: ExerciseOpt = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Name a logged event as evidence for success criteria (it keeps its own time)."""
    with state(ctx).store().session() as session:
        found = service.get_exercise(session, exercise)
        event = service.tag_evidence(session, found, event_id, criteria, author=author(by))
        _logged(found, event, as_json)


@exercise_app.command("timeline")
def timeline(
    ctx: typer.Context,
    exercise_id: ExerciseArg = None,
    exercise: ExerciseOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every event with its number, exercise time (T+mm:ss) and UTC time."""
    with state(ctx).store().session() as session:
        found = service.get_exercise(session, which(exercise_id, exercise))
        at = offsets(found.events)
        rows = [event_dict(e, format_offset(at[e.id])) for e in found.events]
        if as_json:
            print_json(rows)
            return
        console.print(
            table(
                f"{found.label} timeline",
                ["#", "Time", "UTC", "Kind", "Phase", "Who", "What"],
                [
                    (
                        r["id"],
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
    exercise: ExerciseOpt = None,
    fmt: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="md, html or pdf.")
    ] = ReportFormat.MARKDOWN,
    output: OutputOption = None,
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
    """Write the dated tabletop report (marks an ended exercise as reported).

    HTML and PDF hold their figures; Markdown written to a file links SVG files written
    beside it (REPORT-figures/), and on standard output says each figure in words."""
    st = state(ctx)
    program = st.library().program
    with st.store().session() as session:
        found = service.get_exercise(session, which(exercise_id, exercise))
        data = build_report(session, found, program, counsel=counsel, distribution=distribution)
        if fmt == ReportFormat.MARKDOWN and output is not None and not is_stdio(output):
            markdown, figures = markdown_with_figures(data, Path(output).name)
            written = write_output(output, markdown)
            for relative, svg in figures.items():
                write_output(Path(output).parent / relative, svg)
        else:
            written = write_output(output, render(data, fmt))
        mark_reported(session, found, author=author(by), path=str(written) if written else None)
        if written is not None:
            console.print(f"wrote {written}", markup=False)


@exercise_app.command("run")
def run(
    ctx: typer.Context,
    exercise_id: ExerciseArg = None,
    exercise: ExerciseOpt = None,
    by: ByOpt = None,
) -> None:
    """Observer's console: a live view; every typed line is a timestamped observation.

    Commands: /decide TEXT, /note TEXT, /phase [NAME], /inject [TEXT], /assign ROLE=PERSON,
    /tag EVENT CRITERION, /pause, /resume, /end, /status, /quit (leave; the exercise keeps
    running), /help. Start a text with @C2 to tag it as evidence for criterion C2.
    """
    store = state(ctx).store()
    with store.session() as session:
        chosen = service.get_exercise(session, which(exercise_id, exercise)).id
    run_session(store, chosen, author(by))
