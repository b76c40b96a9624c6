"""The Typer application, its noun groups, and the table that loads them lazily.

Command modules attach commands to these groups (``@scenario_app.command("list")``) or to
the root ``app`` (``@app.command("lint")``). No command module is imported at start-up:
:data:`COMMANDS` names, for each top-level word, the modules that define it and the
one-line help shown by ``drillbook --help``; the root group imports those modules only
when that word is run. A command module pulls in SQLAlchemy, pydantic, pySigma or
FastAPI, and importing them all cost about 0.9 s of CPU before even ``--help`` could
answer. Errors from the tool's own error tree are turned into one readable message and a
non-zero exit here, in one place.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from drillbook.cli.output import print_error
from drillbook.errors import DrillbookError, LibraryError


class DrillbookGroup(TyperGroup):
    """A click group that reports :class:`DrillbookError` without a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except LibraryError as exc:
            for problem in exc.problems:
                print_error(str(problem))
            errors = sum(1 for p in exc.problems if p.level == "error")
            print_error(f"{errors} problem{'s' if errors != 1 else ''} found")
            raise typer.Exit(exc.exit_code) from None
        except DrillbookError as exc:
            print_error(f"error: {exc}")
            raise typer.Exit(exc.exit_code) from None
        except BrokenPipeError:
            # `drillbook finding list | head`: the reader left; nothing to tell anyone.
            raise typer.Exit(1) from None
        except OSError as exc:
            # The last resort: files the CLI reads or writes go through cli/files.py, which
            # names them; anything else the system refuses still gets one line, no traceback.
            where = f"{exc.filename}: " if exc.filename else ""
            print_error(f"error: {where}{exc.strerror or exc}")
            raise typer.Exit(1) from None


@dataclass(frozen=True)
class LazyCommand:
    """A top-level word of the CLI: the modules that define it and its one-line help.

    ``group`` names the noun group's Typer object in this module (``scenario_app``); it is
    None for a command attached to the root app (``init``, ``lint``, ...).
    """

    modules: tuple[str, ...]
    help: str
    group: str | None = None


def _cli(*names: str) -> tuple[str, ...]:
    return tuple(f"drillbook.cli.{name}" for name in names)


# The order here is the order `drillbook --help` lists them in. A test imports every
# module and checks this table against what they register, so it cannot drift.
COMMANDS: dict[str, LazyCommand] = {
    "init": LazyCommand(
        _cli("library"),
        "Scaffold a library: drillbook.yaml, inventory.yaml, scenarios/, drills/, .gitignore, "
        "and the JSON Schemas with the editor settings that use them.",
    ),
    "lint": LazyCommand(
        _cli("library"),
        "Check the library: every problem at once as path:line:column: message.",
    ),
    "schema": LazyCommand(
        _cli("library"),
        "Print the JSON Schema (with its $id) of a document kind, for editors and CI.",
    ),
    "followup": LazyCommand(
        _cli("followup"),
        "List each fix with whether it moved; unmoved ones carry over to the next brief.",
    ),
    "escalate": LazyCommand(
        _cli("escalate"),
        "Remind owners before findings' SLA dates and escalate after them (safe from cron).",
    ),
    "serve": LazyCommand(
        _cli("serve"),
        "Serve the web app: overview, scenario library, live exercise room, findings.",
    ),
    "mcp": LazyCommand(
        _cli("mcp_command"),
        "Serve the Model Context Protocol over stdio for an admin agent (--allow-drills).",
    ),
    "tour": LazyCommand(
        _cli("tour"),
        "Walk through the core loop on the embedded defaults, in a scratch folder.",
    ),
    "scenario": LazyCommand(
        _cli("scenario", "generate"),
        "Browse, show and generate tabletop scenarios.",
        group="scenario_app",
    ),
    "exercise": LazyCommand(
        _cli("exercise", "planning"),
        "Plan, brief, run and report tabletop exercises.",
        group="exercise_app",
    ),
    "finding": LazyCommand(
        _cli("finding", "finding_draft", "finding_sync"),
        "The findings backlog: add, draft, list, rank, update, close, export, import, sync.",
        group="finding_app",
    ),
    "drill": LazyCommand(
        _cli("drill", "scorecard"),
        "Chaos security drills: plan, run, clean up, score.",
        group="drill_app",
    ),
    "detect": LazyCommand(
        _cli("detect"),
        "Detection checks: run Sigma rules over events, test for regressions.",
        group="detect_app",
    ),
    "inventory": LazyCommand(
        _cli("planning"),
        "The inventory of agents, tools, services and customers.",
        group="inventory_app",
    ),
    "db": LazyCommand(
        _cli("db"),
        "The store: check its version and health, upgrade it, back it up.",
        group="db_app",
    ),
    "user": LazyCommand(_cli("user"), "Web app accounts: add one, list them.", group="user_app"),
    "schedule": LazyCommand(
        _cli("program"),
        "The rehearsal calendar: tabletop, remediation, drill and follow-up per team.",
    ),
    "metrics": LazyCommand(
        _cli("program"),
        "Quarterly program metrics and the failure-mode signals, each naming its data.",
    ),
    "incident": LazyCommand(
        _cli("program"),
        "Record real incidents; each one adds a tabletop to the schedule.",
        group="incident_app",
    ),
    "evidence": LazyCommand(
        _cli("evidence"),
        "Build or verify an evidence pack for auditors and buyers.",
        group="evidence_app",
    ),
}


class LazyRootGroup(DrillbookGroup):
    """The root group: lists every word from :data:`COMMANDS` without importing anything,
    and imports a word's modules only when that word is run (or its own help is asked)."""

    _listing = False

    # Typer vendors its own click from 0.2x on, so the click types are left as Any here:
    # this class must work with either.
    def list_commands(self, ctx: Any) -> list[str]:
        loaded = [name for name in super().list_commands(ctx) if name not in COMMANDS]
        return [*COMMANDS, *loaded]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        if self._listing:
            # Only the name and one line of help are wanted: no import at all.
            return TyperCommand(cmd_name, help=entry.help, short_help=entry.help)
        return load_command(cmd_name)

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self._listing = True
        try:
            super().format_help(ctx, formatter)
        finally:
            self._listing = False


def load_command(name: str) -> Any:
    """Import the modules behind top-level word ``name`` and build its click command."""
    entry = COMMANDS[name]
    for module in entry.modules:
        importlib.import_module(module)
    if entry.group is not None:
        command: Any = typer.main.get_command(globals()[entry.group])
    else:
        # Root commands register on `app` itself: build the root from what is registered
        # now and take that one command out of it.
        command = getattr(typer.main.get_command(app), "commands", {}).get(name)
        if command is None:
            raise LookupError(f"{', '.join(entry.modules)} define no command {name!r}")
    command.name = name
    return command


def load_all_commands() -> dict[str, Any]:
    """Every top-level word with its click command, all modules imported (for tests and
    tools that walk the whole command tree; the CLI itself never needs this)."""
    return {name: load_command(name) for name in COMMANDS}


def _group(name: str, help_text: str) -> typer.Typer:
    return typer.Typer(
        cls=DrillbookGroup,
        name=name,
        help=help_text,
        no_args_is_help=True,
        rich_markup_mode="rich",
    )


app = typer.Typer(
    cls=LazyRootGroup,
    name="drillbook",
    help="Rehearse incidents before you have one: tabletop exercises, chaos security "
    "drills, and findings tracked to closure.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
# Each noun group takes its help from COMMANDS, so the listing and the group's own
# --help say the same thing.
scenario_app = _group("scenario", COMMANDS["scenario"].help)
exercise_app = _group("exercise", COMMANDS["exercise"].help)
finding_app = _group("finding", COMMANDS["finding"].help)
drill_app = _group("drill", COMMANDS["drill"].help)
detect_app = _group("detect", COMMANDS["detect"].help)
inventory_app = _group("inventory", COMMANDS["inventory"].help)
user_app = _group("user", COMMANDS["user"].help)
db_app = _group("db", COMMANDS["db"].help)
incident_app = _group("incident", COMMANDS["incident"].help)
# `drillbook evidence --since ... -o ...` builds a pack; `drillbook evidence verify PATH`
# checks one: the group's own callback does the building.
evidence_app = typer.Typer(
    cls=DrillbookGroup,
    name="evidence",
    help=COMMANDS["evidence"].help,
    invoke_without_command=True,
    no_args_is_help=True,
    rich_markup_mode="rich",
)
