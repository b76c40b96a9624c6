"""The app as uvicorn's worker processes build it (``drillbook serve --workers N``).

Each worker builds its own app from the environment the ``serve`` command prepared
(library, database, bind address, allowed hosts), with its own change feed; on
PostgreSQL the feeds of all workers hear every change through LISTEN/NOTIFY.
"""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from fastapi import FastAPI

BIND_HOST = "_DRILLBOOK_SERVE_BIND_HOST"
ALLOWED = "_DRILLBOOK_SERVE_ALLOWED_HOSTS"
LIBRARY = "_DRILLBOOK_SERVE_LIBRARY"


def app_from_environment() -> FastAPI:
    from drillbook.storage.engine import open_store
    from drillbook.web.app import create_app

    root = Path(os.environ[LIBRARY]) if os.environ.get(LIBRARY) else None
    app = create_app(
        root,
        open_store(root),
        bind_host=os.environ.get(BIND_HOST, "127.0.0.1"),
        allowed_hosts=[h for h in os.environ.get(ALLOWED, "").split(",") if h],
    )
    before = app.router.lifespan_context  # the MCP endpoint's task group, where mounted

    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[Any]:
        async with before(started) as state, _close_streams_on_exit(started):
            yield state

    app.router.lifespan_context = lifespan
    return app


@asynccontextmanager
async def _close_streams_on_exit(app: FastAPI) -> AsyncIterator[None]:
    """Chain uvicorn's SIGINT/SIGTERM handlers: end the event streams first, so a worker
    stops at once with browsers connected (uvicorn installed its handlers already)."""
    ctx = app.state.ctx
    for number in (signal.SIGINT, signal.SIGTERM):
        previous = signal.getsignal(number)
        if callable(previous):
            signal.signal(number, _chained(ctx.hub.close_threadsafe, previous))
    yield


def _chained(first: Callable[[], None], then: Callable[[int, FrameType | None], Any]) -> Any:
    def handler(number: int, frame: FrameType | None) -> None:
        first()
        then(number, frame)

    return handler
