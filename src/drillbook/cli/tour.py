"""Commands: the guided walk-through (the README's run command).

``drillbook tour`` shows a new user the whole product as it stands, on the embedded
defaults (SQLite, the built-in library, the local detection engine), in a scratch folder:
each step prints the exact command, runs it as a user would type it, and says what to
look at. Nothing outside the scratch folder is touched, and it never asks a question, so
it runs the same in CI as at a desk.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
from rich.panel import Panel
from rich.rule import Rule

from drillbook.cli.app import app
from drillbook.cli.output import console


@dataclass(frozen=True)
class Step:
    title: str
    why: str
    argv: tuple[str, ...]


def tour_steps(scratch: Path) -> list[Step]:
    """The walk, in order. ``{lib}`` is the scratch library."""
    lib = str(scratch)
    return [
        Step("Scaffold a library",
             "A library is a folder in your git repository: drillbook.yaml (teams, people, "
             "SLAs, cadence), inventory.yaml, scenarios/ and drills/.",
             ("init", lib)),
        Step("Lint it",
             "Every problem at once as path:line:column: message, the way CI wants it.",
             ("--library", lib, "lint")),
        Step("Browse the built-in scenarios",
             "Original scenarios ship with drillbook; `init` copied a gentle one for you.",
             ("--library", lib, "scenario", "list")),
    ]


def _run(step: Step, number: int, total: int, env: dict[str, str]) -> int:
    console.print(Rule(f"[bold]{number}/{total}  {step.title}[/bold]", align="left"))
    console.print(f"[dim]{step.why}[/dim]")
    console.print(f"[bold cyan]$ drillbook {' '.join(step.argv)}[/bold cyan]")
    done = subprocess.run(
        [sys.executable, "-m", "drillbook", *step.argv], env=env, check=False
    )
    return done.returncode


@app.command("tour")
def tour(
    directory: Annotated[
        Path | None,
        typer.Argument(help="Scratch folder for the tour's library (default: a new temp folder)."),
    ] = None,
) -> None:
    """Walk through the core loop on the embedded defaults, in a scratch folder."""
    scratch = directory or Path(tempfile.mkdtemp(prefix="drillbook-tour-")) / "library"
    env = {**os.environ, "COLUMNS": os.environ.get("COLUMNS", "110")}
    env.pop("DRILLBOOK_LIBRARY", None)
    env.pop("DRILLBOOK_DATABASE_URL", None)
    console.print(Panel.fit(
        "[bold]drillbook tour[/bold]: rehearse incidents before you have one.\n"
        f"Scratch library: {scratch}\nEmbedded defaults: SQLite store, built-in scenario "
        "library, local Sigma detection engine.",
        border_style="cyan",
    ))
    steps = tour_steps(scratch)
    for number, step in enumerate(steps, start=1):
        code = _run(step, number, len(steps), env)
        if code != 0:
            console.print(f"[red]step {number} failed with exit status {code}[/red]")
            raise typer.Exit(code)
    console.print(Rule())
    console.print(
        f"[bold green]Tour complete.[/bold green] Your scratch library is {scratch}\n"
        f"Carry on there:  [cyan]cd {scratch} && drillbook --help[/cyan]"
    )
