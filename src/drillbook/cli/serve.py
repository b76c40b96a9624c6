"""Commands: serve (the web app)."""

from __future__ import annotations

from pathlib import Path
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
    workers: Annotated[
        int,
        typer.Option(
            min=1, max=64, help="Worker processes (PostgreSQL only; SQLite serves from one)."
        ),
    ] = 1,
) -> None:
    """Serve the web app: overview, scenario library, live exercise room, findings."""
    from drillbook.errors import ConfigError
    from drillbook.web.security import is_loopback

    cli = state(ctx)
    root = cli.library_root(required=False)
    store = cli.store()
    if workers > 1 and store.engine.dialect.name == "sqlite":
        raise ConfigError(
            "--workers needs PostgreSQL (DRILLBOOK_DATABASE_URL): on SQLite one process "
            "serves and watches the store; leave --workers out"
        )
    if not is_loopback(host):
        console.print(
            f"warning: listening on {host}, not loopback: anyone who can reach this address "
            "can try to sign in. Put it behind HTTPS (and set DRILLBOOK_SECURE_COOKIES=1), "
            "and name its public host with --allowed-host.",
            markup=False,
            style="yellow",
        )
    console.print(f"drillbook web app on http://{host}:{port}/ (Ctrl-C stops it)", markup=False)
    if workers > 1:
        _run_workers(root, host, port, workers, allowed_host or [])
        return
    from drillbook.web.app import create_app
    from drillbook.web.server import WebServer

    store.hold_output = False  # a response is sent after its commit; server logs stay live
    web = create_app(root, store, bind_host=host, allowed_hosts=allowed_host or ())
    WebServer(web, host=host, port=port).run()


def _run_workers(root: Path | None, host: str, port: int, workers: int, hosts: list[str]) -> None:
    """Several uvicorn worker processes, each building the app from the environment."""
    import os

    import uvicorn

    from drillbook.web import asgi
    from drillbook.web.server import GRACEFUL_SECONDS

    os.environ[asgi.LIBRARY] = str(root) if root else ""
    os.environ[asgi.BIND_HOST] = host
    os.environ[asgi.ALLOWED] = ",".join(hosts)
    uvicorn.run(
        "drillbook.web.asgi:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
