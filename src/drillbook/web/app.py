"""The web app: ``create_app()`` builds it for one library and one store.

Pages are server-rendered (Jinja2, autoescaped) so they work without a build step and
offline; scripts are static files only (the Content-Security-Policy forbids inline
script), and a live exercise follows its change feed by server-sent events. Routes are
thin: they check who is asking (:mod:`drillbook.web.auth`), call the same services as the
CLI, and render a read model from ``domain/*/views.py``.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from drillbook import __version__
from drillbook.config import setting
from drillbook.errors import AccessDenied, DrillbookError, NotFoundError, StoreError
from drillbook.library.loader import Library, load_library
from drillbook.storage.engine import Store
from drillbook.web.feed import FeedHub

HERE = Path(__file__).parent


@dataclass
class WebContext:
    """What every route needs; the library is re-read on each request so edits in git
    show up without a restart."""

    library_root: Path | None
    store: Store
    hub: FeedHub
    write_lock: threading.Lock = field(default_factory=threading.Lock)
    """Writers' turn on SQLite: the web routes' and the MCP endpoint's (see writing)."""

    def library(self) -> Library:
        return load_library(self.library_root)

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A unit of work that writes. On SQLite the web app is one process, and its
        writers take turns here: a WAL transaction that read first and then writes fails
        at once ("database is locked") when another writer committed in between, and
        2,000 concurrent decisions must all be kept. PostgreSQL needs no turns."""
        if self.store.engine.dialect.name != "sqlite":
            with self.store.session() as session:
                yield session
            return
        with self.write_lock, self.store.session() as session:
            yield session


# Autoescaping is on for every template, whatever its file name: all text a user wrote
# (titles, decisions, notes) is escaped; nothing is marked safe.
def _page_context(request: Request) -> dict[str, Any]:
    """Every page gets the session's CSRF token (forms and room.js send it back)."""
    session = request.scope.get("session")
    return {"csrf": str(session.get("csrf", "")) if isinstance(session, dict) else ""}


templates = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=True),
    context_processors=[_page_context],
)
templates.env.globals["version"] = __version__


class SignInRequired(AccessDenied):
    """No session: pages redirect to the sign-in form, the API answers 401."""


def _error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": message, "status": status}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path.endswith("/stream")


def _error_response(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse(_error_body(status, message), status_code=status)
    return templates.TemplateResponse(
        request, "error.html", {"message": message, "status": status}, status_code=status
    )


def create_app(
    library_root: Path | None,
    store: Store,
    *,
    bind_host: str = "127.0.0.1",
    allowed_hosts: Iterable[str] = (),
    secure_cookies: bool | None = None,
) -> FastAPI:
    from drillbook.domain.account.service import signing_secret
    from drillbook.web.routes import (
        api,
        auth_pages,
        dashboard,
        drills,
        exercises,
        findings,
        room,
        scenarios,
    )
    from drillbook.web.security import Guard
    from drillbook.web.security import allowed_hosts as host_list

    app = FastAPI(
        title="drillbook",
        version=__version__,
        # Swagger and ReDoc load their scripts from a CDN: blank offline, and a CDN
        # script is exactly what the CSP forbids. The schema itself is served.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.ctx = WebContext(library_root=library_root, store=store, hub=FeedHub(store))
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    for module in (auth_pages, dashboard, scenarios, exercises, room, findings, drills, api):
        app.include_router(module.router)

    with store.session() as session:
        secret = signing_secret(session)
    configured = [h for h in setting("DRILLBOOK_ALLOWED_HOSTS").split(",") if h.strip()]
    if secure_cookies is None and setting("DRILLBOOK_SECURE_COOKIES").strip():
        secure_cookies = setting("DRILLBOOK_SECURE_COOKIES").strip().lower() in ("1", "true", "yes")
    app.add_middleware(
        Guard,
        secret=secret,
        hosts=host_list(bind_host, [*configured, *allowed_hosts]),
        secure_cookies=secure_cookies,
    )

    _mount_mcp(app, library_root, store)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> FileResponse:
        return FileResponse(HERE / "static" / "favicon.svg", media_type="image/svg+xml")

    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        if _wants_json(request) or request.method != "GET":
            return JSONResponse(_error_body(401, str(exc)), status_code=401)
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(DrillbookError)
    async def _drillbook_error(request: Request, exc: DrillbookError) -> Response:
        status = (
            404 if isinstance(exc, NotFoundError) else 403 if isinstance(exc, AccessDenied) else 400
        )
        if isinstance(exc, StoreError) and exc.retry_later:
            status = 503  # the store is locked or unreachable for now: try again
        return _error_response(request, status, str(exc))

    @app.exception_handler(OperationalError)
    async def _busy(request: Request, exc: OperationalError) -> Response:
        # SQLite busy past its timeout (a CLI writer holding the lock): nothing was stored
        if "locked" in str(exc.orig):
            return _error_response(request, 503, "the store is busy; nothing was saved, try again")
        raise exc

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error_response(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # a path id that is not a number is a page that does not exist
        in_path = any(error.get("loc", ("",))[0] == "path" for error in exc.errors())
        if in_path:
            return _error_response(request, 404, "no such page")
        fields = ", ".join(
            ".".join(str(part) for part in error.get("loc", ())[1:]) or "body"
            for error in exc.errors()
        )
        return _error_response(request, 422, f"invalid input: {fields}")

    return app


def _mount_mcp(app: FastAPI, library_root: Path | None, store: Store) -> None:
    """The MCP server over streamable HTTP at ``/mcp`` (API tokens; docs/mcp.md), when
    the ``mcp`` extra is installed; its task group runs for the app's lifetime."""
    try:
        from drillbook.mcp.http import PATH, mcp_endpoint
    except ImportError:
        return
    gate, running = mcp_endpoint(library_root, store, write_lock=context_of(app).write_lock)
    from starlette.routing import Route

    app.router.routes.append(
        Route(PATH, gate, methods=["GET", "POST", "DELETE"], include_in_schema=False)
    )
    before = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(started: FastAPI) -> AsyncIterator[Any]:
        async with running(), before(started) as state:
            yield state

    app.router.lifespan_context = lifespan


def context_of(app: FastAPI) -> WebContext:
    ctx = app.state.ctx
    assert isinstance(ctx, WebContext)
    return ctx


def context(request: Request) -> WebContext:
    ctx = request.app.state.ctx
    assert isinstance(ctx, WebContext)
    return ctx
