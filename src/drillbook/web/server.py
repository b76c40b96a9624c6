"""Run the web app under uvicorn so that Ctrl-C stops it even with browsers connected.

uvicorn's graceful shutdown waits for open responses to finish; a live view's event
stream never finishes by itself. :class:`WebServer` ends every stream as soon as the
shutdown begins (the change feed sends each one its last message), and a short graceful
timeout covers anything else still open.
"""

from __future__ import annotations

from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI

from drillbook.web.app import WebContext

GRACEFUL_SECONDS = 5


class WebServer(uvicorn.Server):
    def __init__(self, app: FastAPI, *, host: str, port: int, **options: Any) -> None:
        self.web_app = app
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=options.pop("log_level", "warning"),
            timeout_graceful_shutdown=GRACEFUL_SECONDS,
            **options,
        )
        super().__init__(config)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.stop_streams()
        super().handle_exit(sig, frame)

    def stop_streams(self) -> None:
        ctx = self.web_app.state.ctx
        if isinstance(ctx, WebContext):
            ctx.hub.close_threadsafe()

    def stop(self) -> None:
        """Stop from another thread (tests): streams first, then the server."""
        self.stop_streams()
        self.should_exit = True
