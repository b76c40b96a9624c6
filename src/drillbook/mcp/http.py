"""The MCP server over streamable HTTP, at ``/mcp`` of the web app (``drillbook serve``).

An agent signs in with an API token (``drillbook user token NAME --client AGENT``), sent
as ``Authorization: Bearer TOKEN`` on every request; the browser's cookie does not
count here, so CSRF does not apply (a browser never attaches a bearer token by itself).
:class:`BearerGate` turns the token into a :class:`~drillbook.mcp.context.Caller` (the
account's role and team, and the client the token was issued for) before the SDK sees
the request; a request without a valid token gets 401 and a line in the audit log.

The SDK runs in stateless JSON mode: every request stands alone and carries its own
token, so no MCP session can be taken over by another token's holder, and the caller of
a call is the caller of the request that carries it. The web app's guard still checks
the Host header and adds the security headers; the SDK's own DNS-rebinding check is off
because that guard (with the operator's allowed hosts) already does it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import Receive, Scope, Send

from drillbook.errors import AccessDenied
from drillbook.mcp.context import CALLER, Caller, McpContext
from drillbook.mcp.server import build_server

if TYPE_CHECKING:
    from drillbook.storage.engine import Store

PATH = "/mcp"
MAX_BODY = 1024 * 1024
"""The largest JSON-RPC request an agent may send (the longest tool input is 4000
characters of text; the SDK's default is 4 MiB)."""


class BearerGate:
    """ASGI app at ``/mcp``: authenticate the bearer token, then hand over to the SDK."""

    def __init__(self, context: McpContext, manager: StreamableHTTPSessionManager) -> None:
        self.context = context
        self.manager = manager
        self.live = False
        """Set while the app's lifespan runs the SDK's task group (uvicorn's default)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        remote = scope["client"][0] if scope.get("client") else None
        user_agent = headers.get("user-agent", "")[:200]
        scheme, _, secret = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            await self._refuse(send, remote, user_agent, "no API token")
            return
        try:
            caller = await anyio.to_thread.run_sync(self._caller, secret.strip(), remote)
        except AccessDenied as exc:
            await self._refuse(send, remote, user_agent, str(exc))
            return
        if not self.live:
            await _answer(send, 503, "the MCP endpoint needs the server's lifespan (not 'off')")
            return
        token = CALLER.set(caller)
        try:
            await self.manager.handle_request(scope, receive, send)
        finally:
            CALLER.reset(token)

    def _caller(self, secret: str, remote: str | None) -> Caller:
        from drillbook.domain.account.access import Principal
        from drillbook.domain.account.enums import AccountRole
        from drillbook.domain.account.tokens import authenticate_token

        with self.context.session() as session:
            account, token = authenticate_token(session, secret)
            principal = Principal(
                name=account.display_name,
                role=AccountRole(account.role),
                team=account.team,
                username=account.username,
                account_id=account.id,
            )
            return Caller(
                principal=principal,
                client=token.client,
                token_id=token.id,
                remote=remote,
            )

    async def _refuse(self, send: Send, remote: str | None, user_agent: str, why: str) -> None:
        detail = {"transport": "http", "reason": why, "user_agent": user_agent}
        await anyio.to_thread.run_sync(self._audit_refusal, remote, detail)
        await _answer(send, 401, f"{why}: sign in with an API token")

    def _audit_refusal(self, remote: str | None, detail: dict[str, Any]) -> None:
        from drillbook.domain.account.service import audit

        with self.context.session() as session:
            audit(
                session,
                actor="anonymous",
                action="mcp.refused",
                target=PATH,
                remote=remote,
                detail=detail,
            )


async def _answer(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message, "status": status}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="drillbook"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def mcp_endpoint(
    library_root: Any, store: Store, *, write_lock: AbstractContextManager[object] | None = None
) -> tuple[BearerGate, Callable[[], AbstractAsyncContextManager[None]]]:
    """The ``/mcp`` endpoint for the web app and what its lifespan must run (the SDK's
    task group). ``write_lock`` is the web app's turn for writers on SQLite. Drill
    detonation is never offered over HTTP."""
    context = McpContext(root=library_root, agent="mcp-http", store=store, write_lock=write_lock)
    server = build_server(context, http=True)
    server.streamable_http_app(
        streamable_http_path=PATH,
        stateless_http=True,
        json_response=True,
        max_request_body_size=MAX_BODY,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    gate = BearerGate(context, server.session_manager)

    @asynccontextmanager
    async def running() -> AsyncIterator[None]:
        async with gate.manager.run():
            gate.live = True
            try:
                yield
            finally:
                gate.live = False

    return gate, running
