"""Commands: serve (the web app)."""

from __future__ import annotations

from typing import Annotated

import typer

from drillbook.cli.app import app
from drillbook.cli.context import state
from drillbook.cli.output import console


@app.command("serve")
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help="A Host name the app answers besides loopback (repeatable); others are refused.",
        ),
    ] = None,
) -> None:
    """Serve the web app: overview, scenario library, live exercise room, findings."""
    from drillbook.web.app import create_app
    from drillbook.web.security import is_loopback
    from drillbook.web.server import WebServer

    cli = state(ctx)
    root = cli.library_root(required=False)
    web = create_app(root, cli.store(), bind_host=host, allowed_hosts=allowed_host or ())
    if not is_loopback(host):
        console.print(
            f"warning: listening on {host}, not loopback: anyone who can reach this address "
            "can try to sign in. Put it behind HTTPS (and set DRILLBOOK_SECURE_COOKIES=1), "
            "and name its public host with --allowed-host.",
            markup=False,
            style="yellow",
        )
    console.print(f"drillbook web app on http://{host}:{port}/ (Ctrl-C stops it)", markup=False)
    WebServer(web, host=host, port=port).run()
