"""The web app's outer guard, one ASGI middleware in front of every route.

For every request it:

- refuses a Host header that is not on the allow-list (a loopback server reached through
  DNS rebinding sees the attacker's host name, so it answers 400 and nothing else);
- loads the signed session cookie into ``scope["session"]`` (itsdangerous, HMAC-SHA256
  with a random key kept in the store) and writes it back when it changed, HttpOnly,
  SameSite=Lax, and Secure over HTTPS;
- refuses any state-changing method (POST, PUT, PATCH, DELETE) whose CSRF token (the
  ``X-CSRF-Token`` header, or a ``csrf_token`` form field) does not match the session's;
- adds the security headers: a Content-Security-Policy with no inline script,
  ``frame-ancestors 'none'`` and ``X-Frame-Options: DENY``, ``nosniff``, no referrer.

``/mcp`` (the MCP server over HTTP) is bearer-token only: the Host check and the headers
apply, but no cookie session is loaded or set there and so no CSRF token is asked for (a
browser never attaches a bearer token by itself; without one the endpoint answers 401).
"""

from __future__ import annotations

import hmac
import json
import secrets
from collections.abc import Iterable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "drillbook_session"
SESSION_MAX_AGE = 12 * 3600
MAX_BODY = 256 * 1024
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
BEARER_ONLY_PATHS = frozenset({"/mcp", "/mcp/"})
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)


def host_name(header: str) -> str:
    """The name in a Host header, without port, lower-case (``[::1]:8000`` -> ``::1``)."""
    value = header.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else ""
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def is_loopback(host: str) -> bool:
    name = host_name(host) if host.startswith("[") else host.strip().lower()
    return name in LOOPBACK_HOSTS or name.startswith("127.")


def allowed_hosts(bind_host: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Loopback names, the address the server is bound to (unless a wildcard), and the
    names given by the operator."""
    names = set(LOOPBACK_HOSTS)
    if bind_host not in ("0.0.0.0", "::", ""):
        names.add(bind_host.strip("[]").lower())
    names.update(h.strip().lower() for h in extra if h.strip())
    return frozenset(names)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


class Guard:
    """Hosts, sessions, CSRF and headers (see the module docstring)."""

    def __init__(
        self, app: ASGIApp, *, secret: str, hosts: frozenset[str], secure_cookies: bool | None
    ) -> None:
        self.app = app
        self.hosts = hosts
        self.secure_cookies = secure_cookies
        self.serializer = URLSafeTimedSerializer(secret, salt="drillbook-session")

    def _load(self, scope: Scope) -> dict[str, Any]:
        for name, value in scope["headers"]:
            if name == b"cookie":
                jar: SimpleCookie = SimpleCookie()
                try:
                    jar.load(value.decode("latin-1"))
                except Exception:
                    continue
                if COOKIE in jar:
                    try:
                        data = self.serializer.loads(jar[COOKIE].value, max_age=SESSION_MAX_AGE)
                    except BadSignature:
                        return {}
                    return dict(data) if isinstance(data, dict) else {}
        return {}

    def _cookie(self, session: dict[str, Any], scope: Scope) -> bytes:
        secure = self.secure_cookies
        if secure is None:
            secure = scope.get("scheme") == "https"
        if session:
            value = self.serializer.dumps(session)
            parts = [f"{COOKIE}={value}", "Path=/", f"Max-Age={SESSION_MAX_AGE}"]
        else:
            parts = [f"{COOKIE}=", "Path=/", "Max-Age=0"]
        parts += ["HttpOnly", "SameSite=Lax"] + (["Secure"] if secure else [])
        return "; ".join(parts).encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        if host_name(headers.get("host", "")) not in self.hosts:
            await _plain(send, 400, "this server does not answer to that Host name")
            return
        if scope["path"] in BEARER_ONLY_PATHS:
            await self.app(scope, receive, _with_headers(send))
            return
        session = self._load(scope)
        original = json.dumps(session, sort_keys=True)
        if "csrf" not in session:
            session["csrf"] = new_csrf_token()
        scope["session"] = session
        if scope["method"] in UNSAFE_METHODS:
            body, ok = await _read_body(receive)
            if body is None:
                await _plain(send, 413, "request body too large")
                return
            if not ok or not _csrf_ok(headers, body, str(session["csrf"])):
                await _json(send, 403, "missing or wrong CSRF token; reload the page")
                return
            receive = _replay(body, receive)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = list(SECURITY_HEADERS)
                if json.dumps(scope["session"], sort_keys=True) != original:
                    extra.append((b"set-cookie", self._cookie(scope["session"], scope)))
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _with_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
        await send(message)

    return sending


def _csrf_ok(headers: dict[str, str], body: bytes, expected: str) -> bool:
    given = headers.get("x-csrf-token")
    if given is None and headers.get("content-type", "").startswith(
        "application/x-www-form-urlencoded"
    ):
        fields = parse_qs(body.decode("utf-8", "replace"))
        values = fields.get("csrf_token")
        given = values[0] if values else None
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


async def _read_body(receive: Receive) -> tuple[bytes | None, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", False
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None, False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replay(body: bytes, original: Receive) -> Receive:
    """The body already read, then whatever the client does next (its disconnect)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await original()

    return receive


async def _plain(send: Send, status: int, text: str) -> None:
    await _respond(send, status, text.encode(), b"text/plain; charset=utf-8")


async def _json(send: Send, status: int, text: str) -> None:
    body = json.dumps({"error": text, "status": status}).encode()
    await _respond(send, status, body, b"application/json")


async def _respond(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send(
        {"type": "http.response.start", "status": status, "headers": [*headers, *SECURITY_HEADERS]}
    )
    await send({"type": "http.response.body", "body": body})
