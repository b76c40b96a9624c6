"""Commands: exercise plan, exercise brief, inventory check, inventory show."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from drillbook import clock
from drillbook.cli.app import exercise_app, inventory_app
from drillbook.cli.context import CliState, state
from drillbook.cli.files import OutputOption, write_output
from drillbook.cli.output import console, err_console, print_json, table
from drillbook.config import INVENTORY_FILE
from drillbook.domain.inventory.service import (
    inventory_path,
    load_inventory,
    scoped_to_product,
)
from drillbook.domain.scenario.models import Scenario
from drillbook.errors import UsageError
from drillbook.flows.exercise_brief import (
    BriefInputs,
    brief_inputs,
    mark_brief_sent,
    schedule_exercise,
)
from drillbook.library.loader import Library, load_scenario_file
from drillbook.planning.brief import build_brief
from drillbook.planning.calendar import build_calendar
from drillbook.planning.regulatory import parse_jurisdiction
from drillbook.planning.render import OutputFormat, render_brief, render_script
from drillbook.planning.roles import assign_roles, parse_assignments
from drillbook.planning.script import FacilitatorScript, build_script
from drillbook.planning.variations import Variations, gentlest_scenario

FormatOption = Annotated[
    OutputFormat, typer.Option("--format", "-f", help="md (default), html or json.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Same as --format json.")]
RoleOption = Annotated[
    list[str] | None,
    typer.Option("--role", help="ROLE=PERSON, e.g. incident_commander=alice (repeatable)."),
]
DurationOption = Annotated[
    int | None,
    typer.Option("--duration", min=10, max=480, help="Minutes (default: the scenario's)."),
]
DistributedOption = Annotated[
    bool, typer.Option("--distributed", help="Run by video: +15 minutes, breakout rooms.")
]
FirstOption = Annotated[
    bool,
    typer.Option(
        "--first-tabletop", help="First tabletop ever: 90 minutes, gentlest scenario suggested."
    ),
]
RegulatedOption = Annotated[
    bool, typer.Option("--regulated", help="Add a regulator role and notification clocks.")
]
JurisdictionOption = Annotated[
    list[str] | None,
    typer.Option(
        "--jurisdiction",
        help="GDPR, NIS2, SEC, HIPAA, NYDFS, DORA, EU_AI_ACT (repeatable; implies --regulated).",
    ),
]
ProductOption = Annotated[
    str | None, typer.Option("--product", help="Scope the session to one product.")
]
DateOption = Annotated[
    str | None, typer.Option("--date", help="Session start, e.g. 2026-12-01T14:00Z (UTC).")
]


def _resolve(cli: CliState, reference: str) -> tuple[Scenario, Library]:
    library = cli.library(required=False)
    path = Path(reference)
    if reference == "-" or (path.suffix in {".yaml", ".yml"} and path.is_file()):
        return load_scenario_file(path).scenario, library
    return library.scenario(reference).scenario, library


def _parse_date(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return clock.ensure_utc(datetime.fromisoformat(text.strip()))
    except ValueError:
        raise UsageError(
            f"--date {text!r}: write an ISO date and time, e.g. 2026-12-01T14:00Z"
        ) from None


def getpass_author() -> str | None:
    from drillbook.cli.context import author

    return author(None)


def _variations(
    cli: CliState,
    duration: int | None,
    distributed: bool,
    first: bool,
    regulated: bool,
    jurisdictions: list[str] | None,
    product: str | None,
) -> Variations:
    agents: tuple[str, ...] = ()
    if product:
        root = cli.library_root(required=False)
        path = root / INVENTORY_FILE if root is not None else None
        if path is not None and path.is_file():
            scoped = scoped_to_product(load_inventory(path), product, path)
            agents = tuple(a.name for a in scoped.agents)
    return Variations(
        duration_minutes=duration,
        distributed=distributed,
        first_tabletop=first,
        regulated=regulated,
        jurisdictions=tuple(parse_jurisdiction(j) for j in (jurisdictions or [])),
        product=product,
        product_agents=agents,
    )


def _emit(text: str, output: Path | None) -> None:
    written = write_output(output, text)
    if written is not None:
        console.print(f"wrote {written}", markup=False)


@exercise_app.command("plan")
def plan(
    ctx: typer.Context,
    scenario_ref: Annotated[
        str,
        typer.Argument(metavar="SCENARIO_ID_OR_FILE", help="Scenario id, a YAML file, or '-'."),
    ],
    duration: DurationOption = None,
    distributed: DistributedOption = False,
    first_tabletop: FirstOption = False,
    regulated: RegulatedOption = False,
    jurisdiction: JurisdictionOption = None,
    product: ProductOption = None,
    role: RoleOption = None,
    date: DateOption = None,
    fmt: FormatOption = OutputFormat.MD,
    output: OutputOption = None,
    as_json: JsonOption = False,
    llm: Annotated[
        bool,
        typer.Option(
            "--llm",
            help="Ask an OpenAI-compatible endpoint to word the escalations and propose "
            "variations; falls back to the deterministic script.",
        ),
    ] = False,
    llm_url: Annotated[
        str | None,
        typer.Option("--llm-url", help="Endpoint base URL; default DRILLBOOK_LLM_URL or llm.url."),
    ] = None,
) -> None:
    """The facilitator's minute-by-minute script: opening, injects, decisions, clocks."""
    fmt = OutputFormat.JSON if as_json else fmt
    cli = state(ctx)
    scenario, library = _resolve(cli, scenario_ref)
    variations = _variations(
        cli, duration, distributed, first_tabletop, regulated, jurisdiction, product
    )
    roles = assign_roles(
        scenario,
        parse_assignments(role or []),
        library.program,
        extra_roles=variations.extra_roles(),
    )
    suggestion = None
    if first_tabletop:
        gentle = gentlest_scenario(s.scenario for s in library.scenarios.values())
        if gentle is not None and gentle.id != scenario.id:
            level = gentle.difficulty.value if gentle.difficulty else "unrated"
            suggestion = (
                f"For a first tabletop, pick the gentlest scenario: {gentle.id} "
                f"({gentle.title}; difficulty {level}). Run `drillbook exercise "
                f"plan {gentle.id} --first-tabletop` to use it."
            )
        else:
            suggestion = "This is the gentlest scenario in the library: a good first tabletop."
    script = build_script(
        scenario, variations, roles, session_start=_parse_date(date), suggestion=suggestion
    )
    if llm:
        script = _reworded(cli, library, scenario, script, llm_url)
    _emit(render_script(script, fmt), output)


def _reworded(
    cli: CliState,
    library: Library,
    scenario: Scenario,
    script: FacilitatorScript,
    llm_url: str | None,
) -> FacilitatorScript:
    """The model pass of `exercise plan --llm`; the exchange is kept in .drillbook/llm/."""
    from drillbook.cli.output import err_console
    from drillbook.planning.llm_client import EXCHANGE_DIR, resolve_endpoint, save_exchange
    from drillbook.planning.llm_plan import reword_script

    section = library.program.llm if library.program else None
    result = reword_script(scenario, script, resolve_endpoint(section, llm_url))
    prefix = "note: " if result.rewritten else "warning: "
    err_console.print(prefix + result.notice, markup=False)
    root = cli.library_root(required=False)
    if root is not None:
        kept = save_exchange(root / EXCHANGE_DIR, result.exchange)
        err_console.print(f"note: what was sent and received is in {kept}", markup=False)
    return result.script


@exercise_app.command("brief")
def brief(
    ctx: typer.Context,
    scenario_ref: Annotated[
        str | None,
        typer.Argument(
            metavar="[SCENARIO_ID_OR_FILE]",
            help="The scenario. Default: the scenario of the exercise (-e, or the one "
            "planned or running in this library).",
        ),
    ] = None,
    exercise: Annotated[
        str | None,
        typer.Option(
            "--exercise",
            "-e",
            help="A planned exercise (EX-3 or 3): its seats and stored date (--date moves "
            "it), and the fixes its team did not move since its last report as the first "
            "agenda item; marks it briefed. Default without SCENARIO: the planned one.",
        ),
    ] = None,
    role: RoleOption = None,
    date: DateOption = None,
    carry_over: Annotated[
        list[str] | None,
        typer.Option(
            "--carry-over",
            help="A fix that did not move since the last follow-up "
            "(repeatable); first on the agenda.",
        ),
    ] = None,
    duration: DurationOption = None,
    distributed: DistributedOption = False,
    first_tabletop: FirstOption = False,
    regulated: RegulatedOption = False,
    jurisdiction: JurisdictionOption = None,
    product: ProductOption = None,
    fmt: FormatOption = OutputFormat.MD,
    output: OutputOption = None,
    ics: Annotated[
        Path | None, typer.Option("--ics", help="Also write a calendar file ('-' for stdout).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """The pre-read sent 24 hours before: roles, statement, time-box, no injects."""
    fmt = OutputFormat.JSON if as_json else fmt
    cli = state(ctx)
    stored: BriefInputs | None = None
    start = _parse_date(date)
    if exercise is not None or scenario_ref is None:
        with cli.store().session() as session:
            if start is not None:
                schedule_exercise(session, exercise, start, author=getpass_author())
            stored = brief_inputs(session, exercise)
        exercise = stored.exercise
        start = stored.session_start
    scenario, library = _resolve(cli, scenario_ref or (stored.scenario_id if stored else ""))
    variations = _variations(
        cli, duration, distributed, first_tabletop, regulated, jurisdiction, product
    )
    assignments = parse_assignments(role or [])
    if stored is not None and not assignments:
        assignments = dict(stored.roles)
    roles = assign_roles(
        scenario,
        assignments,
        library.program,
        extra_roles=variations.extra_roles(),
    )
    made = build_brief(
        scenario,
        roles,
        variations=variations,
        session_start=start,
        carry_over=[*(carry_over or []), *(stored.carry_over if stored else [])],
        program=library.program,
        session_date=stored.session_date if stored else None,
    )
    for warning in made.warnings:  # the facilitator's, not the participants'
        err_console.print(f"warning: {warning}", style="yellow", markup=False)
    if stored is not None:
        with cli.store().session() as session:
            mark_brief_sent(session, exercise)
    calendar = build_calendar(made) if ics is not None else None
    _emit(render_brief(made, fmt), output)
    if ics is not None and calendar is not None:
        written = write_output(ics, calendar)
        if written is not None:
            err_console.print(f"wrote {written}", markup=False)


InventoryArg = Annotated[
    Path | None, typer.Argument(help="Inventory file; default <library>/inventory.yaml.")
]


@inventory_app.command("check")
def check(ctx: typer.Context, path: InventoryArg = None) -> None:
    """Validate inventory.yaml; every problem is reported as path:line:column."""
    target = inventory_path(state(ctx).library_root(required=path is None), path)
    inventory = load_inventory(target)
    counts = ", ".join(
        f"{n} {word}{'' if n == 1 else 's'}"
        for n, word in ((len(inventory.agents), "agent"), (len(inventory.tools), "tool"))
    )
    console.print(f"{target}: ok ({counts}, {len(inventory.people)} people)", markup=False)


@inventory_app.command("show")
def show(
    ctx: typer.Context,
    path: InventoryArg = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The agents, their tools and risk classes, and who is on call."""
    target = inventory_path(state(ctx).library_root(required=path is None), path)
    inventory = load_inventory(target)
    if as_json:
        print_json(inventory.model_dump(mode="json"))
        return
    rows = []
    for agent in inventory.agents:
        tools = ", ".join(f"{t.name} ({t.risk.label})" for t in inventory.agent_tools(agent))
        rows.append(
            (
                agent.name,
                agent.team or "",
                agent.audience or "",
                tools or "—",
                "yes" if agent.approval_gate else "no",
                agent.calls_per_day or "",
            )
        )
    console.print(
        table(
            "Agents",
            ["Agent", "Team", "Audience", "Tools (risk)", "Approval gate", "Calls/day"],
            rows,
        )
    )
    if inventory.people:
        console.print(
            table(
                "People",
                ["Name", "Team", "On call for", "Channels"],
                [
                    (p.name, p.team or "", ", ".join(p.on_call), ", ".join(p.channels))
                    for p in inventory.people
                ],
            )
        )
    top = ", ".join(c.name for c in inventory.top_customers()) or "—"
    console.print(
        f"Customer profile: {inventory.customer_profile.label}; top customers: {top}", markup=False
    )
