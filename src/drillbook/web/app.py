"""The web app: ``create_app()`` builds it for one library and one store.

Pages are server-rendered (Jinja2) so they work without a build step and offline; the
live exercise view updates through server-sent events. Routes are thin: they call the
same services as the CLI and render.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from drillbook import __version__
from drillbook.errors import DrillbookError, NotFoundError, StoreError
from drillbook.library.loader import Library, load_library
from drillbook.storage.engine import Store

HERE = Path(__file__).parent


@dataclass
class WebContext:
    """What every route needs; the library is re-read on each request so edits in git
    show up without a restart."""

    library_root: Path | None
    store: Store

    def library(self) -> Library:
        return load_library(self.library_root)


templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.globals["version"] = __version__


def create_app(library_root: Path | None, store: Store) -> FastAPI:
    from drillbook.web.routes import dashboard, drills, exercises, findings, scenarios

    app = FastAPI(title="drillbook", version=__version__, docs_url="/api/docs")
    app.state.ctx = WebContext(library_root=library_root, store=store)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(dashboard.router)
    app.include_router(scenarios.router)
    app.include_router(exercises.router)
    app.include_router(findings.router)
    app.include_router(drills.router)

    @app.exception_handler(DrillbookError)
    async def _drillbook_error(request: Request, exc: DrillbookError) -> HTMLResponse:
        status = 404 if isinstance(exc, NotFoundError) else 400
        if isinstance(exc, StoreError) and exc.retry_later:
            status = 503  # the store is locked or unreachable for now: try again
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": str(exc)}, status_code=status)  # type: ignore[return-value]
        return templates.TemplateResponse(
            request, "error.html", {"message": str(exc)}, status_code=status
        )

    return app


def context(request: Request) -> WebContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, WebContext)
    return ctx
