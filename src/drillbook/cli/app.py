"""The Typer application and its noun groups.

Command modules attach commands to these groups (``@scenario_app.command("list")``);
:mod:`drillbook.cli.main` imports them all. Errors from the tool's own error tree are
turned into one readable message and a non-zero exit here, in one place.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

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


def _group(help_text: str) -> typer.Typer:
    return typer.Typer(
        cls=DrillbookGroup, help=help_text, no_args_is_help=True, rich_markup_mode="rich"
    )


app = typer.Typer(
    cls=DrillbookGroup,
    name="drillbook",
    help="Rehearse incidents before you have one: tabletop exercises, chaos security "
    "drills, and findings tracked to closure.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
scenario_app = _group("Browse, show and generate tabletop scenarios.")
exercise_app = _group("Plan, brief, run and report tabletop exercises.")
finding_app = _group("The findings backlog: add, list, rank, update, close, export, import.")
drill_app = _group("Chaos security drills: plan, run, clean up, score.")
detect_app = _group("Detection checks: run Sigma rules over events, test for regressions.")
inventory_app = _group("The inventory of agents, tools, services and customers.")

app.add_typer(scenario_app, name="scenario")
app.add_typer(exercise_app, name="exercise")
app.add_typer(finding_app, name="finding")
app.add_typer(drill_app, name="drill")
app.add_typer(detect_app, name="detect")
app.add_typer(inventory_app, name="inventory")
