"""Commands: the guided walk-through (the README's run command).

``drillbook tour`` shows a new user the whole product as it stands, on the embedded
defaults (SQLite, the built-in library, the local detection engine), in a scratch folder:
each step prints the exact command, runs it (in this process, as if typed), and says
what to look at. Nothing outside the scratch folder is touched, and it never asks a question, so
it runs the same in CI as at a desk.
"""

from __future__ import annotations

import os
import shlex
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import click
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
    """The walk, in order: the library, a tabletop from plan to report, the backlog."""
    lib = str(scratch)
    out = scratch / "out"

    def cmd(*argv: str) -> tuple[str, ...]:
        return ("--library", lib, *argv)

    return [
        Step(
            "Scaffold a library",
            "A library is a folder in your git repository: drillbook.yaml (teams, people, "
            "SLAs, cadence), inventory.yaml (your agents, tools, customers), scenarios/ "
            "and drills/.",
            ("init", lib),
        ),
        Step(
            "Lint it",
            "Every problem at once as path:line:column: message, the way CI wants it.",
            cmd("lint"),
        ),
        Step(
            "Browse the built-in scenarios",
            "Original scenarios ship with drillbook; `init` copied the gentlest one.",
            cmd("scenario", "list", "--difficulty", "gentle"),
        ),
        Step(
            "Generate a scenario tailored to your agents",
            "Built from inventory.yaml: your real agent, tools, customer and channel; the "
            "same seed always gives the same file.",
            cmd("scenario", "generate", "--type", "prompt_injection", "--seed", "7"),
        ),
        Step(
            "Script the facilitator's walkthrough",
            "Minute by minute: what to say at 0, which information drops when, the "
            "decisions per phase, the Observer's checklist.",
            cmd("exercise", "plan", TOUR_SCENARIO, "-o", str(out / "facilitator-script.md")),
        ),
        Step(
            "Create the exercise and assign the seats",
            "Warnings name empty seats and people holding two.",
            cmd(
                "exercise",
                "create",
                TOUR_SCENARIO,
                "--team",
                "security",
                "--role",
                "incident_commander=alice",
                "--role",
                "comms_lead=carol",
                "--role",
                "technical_lead=bob",
                "--role",
                "observer=dave",
            ),
        ),
        Step(
            "Send the brief (24 hours before)",
            "Roles, situation and time-box, and none of the injects; the .ics holds the "
            "session, the 48-hour report deadline and the 30-day follow-up.",
            cmd(
                "exercise",
                "brief",
                "--exercise",
                "1",
                "--date",
                "2026-12-01T14:00Z",
                "-o",
                str(out / "brief.md"),
                "--ics",
                str(out / "tabletop.ics"),
            ),
        ),
        Step(
            "Run it on the clock",
            "Every step is a timestamped event; the clock is derived from them, so a crash "
            "loses nothing. (`drillbook exercise run` is the observer's live console.)",
            cmd("exercise", "start"),
        ),
        Step(
            "Drop the first inject",
            "The facilitator drops information on schedule.",
            cmd("exercise", "inject"),
        ),
        Step(
            "Log a decision",
            "Decisions are what the success criteria are measured by.",
            cmd(
                "exercise",
                "decide",
                "Pause support-assistant and rotate its API key",
                "--by",
                "alice",
            ),
        ),
        Step(
            "Move to containment",
            "Phases follow the seed: detection, containment, communication, post-incident review.",
            cmd("exercise", "phase", "containment"),
        ),
        Step(
            "Capture a finding",
            "Owner, severity, SLA due date; ranked later by how likely the same gap bites again.",
            cmd(
                "finding",
                "add",
                "-e",
                "1",
                "-s",
                "high",
                "--owner",
                "security",
                "--target-date",
                "2026-12-15",
                "-d",
                "Nobody knew who may revoke an agent API key",
                "-r",
                "Name the key owner per agent in the runbook",
            ),
        ),
        Step(
            "End the exercise",
            "The clock stops; the run waits for its report.",
            cmd("exercise", "end"),
        ),
        Step(
            "Write the dated report",
            "Participants, brief, decisions with times, what was missed, fix list, next "
            "tabletop. Markdown, HTML or PDF.",
            cmd("exercise", "report", "1", "-o", str(out / "tabletop-report.md")),
        ),
        Step(
            "Rank the fix list",
            "By likelihood of reuse, with the reasons shown.",
            cmd("finding", "rank"),
        ),
        Step(
            "Detonate a safe chaos drill",
            "Two read-only discovery commands under the drill's safety profile, each in its "
            "own process group with a timeout, journaled, cleaned up, and watched by a "
            "process sensor (strace) so the detection check has real telemetry.",
            cmd("drill", "run", str(scratch / "drills" / "host-discovery.yaml")),
        ),
        Step(
            "Did the detection fire?",
            "The local Sigma engine checks each expected rule in the drill window. A drill "
            "passes only if its detection fires; the one that did not becomes a finding, "
            "and the seed's scorecard is written to drill-results/.",
            cmd("drill", "score"),
        ),
        Step(
            "Map coverage for ATT&CK Navigator",
            "A layer file scored by pass rate, per technique.",
            cmd("drill", "coverage", "-o", str(out / "attack-coverage-layer.json")),
        ),
        Step(
            "One backlog for both",
            "Tabletop and drill findings side by side, with owners and SLA due dates.",
            cmd("finding", "list"),
        ),
    ]


TOUR_SCENARIO = "agent-wrong-team-exposure-gentle"


def _run(step: Step, number: int, total: int) -> int:
    """Run one step in this process, exactly as the printed command line would."""
    console.print(Rule(f"[bold]{number}/{total}  {step.title}[/bold]", align="left"))
    console.print(f"[dim]{step.why}[/dim]")
    console.print(
        f"[bold cyan]$ drillbook {shlex.join(step.argv)}[/bold cyan]", markup=True, soft_wrap=True
    )
    try:
        result = app(args=list(step.argv), prog_name="drillbook", standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0) if not isinstance(exc.code, str) else 1
    except click.ClickException as exc:  # a usage error: shown as the command line would
        exc.show()
        return exc.exit_code
    return result if isinstance(result, int) else 0


@app.command("tour")
def tour(
    directory: Annotated[
        Path | None,
        typer.Argument(help="Scratch folder for the tour's library (default: a new temp folder)."),
    ] = None,
) -> None:
    """Walk through the core loop on the embedded defaults, in a scratch folder."""
    scratch = directory or Path(tempfile.mkdtemp(prefix="drillbook-tour-")) / "library"
    if not console.is_terminal and "COLUMNS" not in os.environ:
        os.environ["COLUMNS"] = "120"  # piped (CI, a log file): room for the tables
    # The tour uses the embedded defaults, whatever this shell has set.
    for name in ("DRILLBOOK_LIBRARY", "DRILLBOOK_DATABASE_URL"):
        os.environ.pop(name, None)
    console.print(
        Panel.fit(
            "[bold]drillbook tour[/bold]: rehearse incidents before you have one.\n"
            f"Scratch library: {scratch}\nEmbedded defaults: SQLite store, built-in scenario "
            "library, local Sigma detection engine.",
            border_style="cyan",
        )
    )
    steps = tour_steps(scratch)
    for number, step in enumerate(steps, start=1):
        code = _run(step, number, len(steps))
        if code != 0:
            console.print(f"[red]step {number} failed with exit status {code}[/red]")
            raise typer.Exit(code)
    login = create_demo_login(scratch)
    console.print(Rule())
    console.print(
        f"[bold green]Tour complete.[/bold green] Your scratch library is {scratch}\n"
        f"Reports and briefs are in {scratch / 'out'}\n"
        f"Carry on there:  [cyan]cd {scratch} && drillbook --help[/cyan]\n"
        f"Open the web app: [cyan]cd {scratch} && drillbook serve[/cyan]"
    )
    if login is not None:
        console.print(f"Sign in there as: {login[0]} / {login[1]}", markup=False)


def create_demo_login(scratch: Path) -> tuple[str, str] | None:
    """A demo admin account in the scratch library's store, with a fresh password (None
    when a tour already made one there)."""
    import secrets

    from drillbook.domain.account.service import create_account
    from drillbook.errors import ConflictError
    from drillbook.storage.engine import open_store

    password = secrets.token_urlsafe(12)
    store = open_store(scratch)
    try:
        with store.session() as session:
            create_account(
                session, username="demo", password=password, role="admin", display_name="Demo"
            )
    except ConflictError:
        return None
    finally:
        store.close()
    return "demo", password
