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
) -> None:
    """Serve the web app: overview, scenario library, live exercise view, findings."""
    import uvicorn

    from drillbook.web.app import create_app

    cli = state(ctx)
    root = cli.library_root(required=False)
    store = cli.store()
    store.hold_output = False  # a response is sent after its commit; server logs stay live
    web = create_app(root, store)
    console.print(f"drillbook web app on [bold]http://{host}:{port}/[/bold] (Ctrl-C stops it)")
    uvicorn.run(web, host=host, port=port, log_level="warning")
