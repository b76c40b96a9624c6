"""Command: ``drillbook mcp`` - serve the Model Context Protocol over stdio."""

from __future__ import annotations

from typing import Annotated

import typer

from drillbook.cli.app import app
from drillbook.cli.context import state


@app.command("mcp")
def mcp(
    ctx: typer.Context,
    allow_drills: Annotated[
        bool,
        typer.Option(
            "--allow-drills",
            help="Offer the drill_run tool (techniques still run under their safety profile).",
        ),
    ] = False,
    agent: Annotated[
        str,
        typer.Option("--agent", help="Identity the agent's actions are logged under."),
    ] = "mcp-agent",
    team: Annotated[
        str | None,
        typer.Option(
            "--team",
            help="Scope the agent to one team: other teams' exercises and fixes are refused.",
        ),
    ] = None,
) -> None:
    """Serve the Model Context Protocol over stdio for an admin agent (--allow-drills)."""
    from drillbook.errors import ConfigError

    try:
        from drillbook.mcp.server import run_stdio
    except ImportError as exc:
        raise ConfigError(
            f"the MCP server needs the mcp SDK ({exc.name} is missing): "
            "pip install 'drillbook[mcp]'"
        ) from None
    run_stdio(
        state(ctx).library_root(required=False),
        agent=agent,
        allow_drills=allow_drills,
        team=team,
    )
