"""Safe by default: each defence of the web app, attacked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from drillbook.storage.engine import Store
from drillbook.web.app import create_app
from drillbook.web.security import allowed_hosts, host_name, is_loopback
from tests.unit.test_web import _library, _running_exercise
from tests.web_helpers import BASE_URL, client_for

XSS = "</script><img src=x onerror=alert(1)><!--<script>"


def test_every_response_carries_the_security_headers(tmp_path: Path, sqlite_store: Store) -> None:
    client, _ = client_for(_library(tmp_path), sqlite_store, "olga")
    for path in ("/", "/login", "/api/me", "/static/style.css", "/no-such-page"):
        response = client.get(path)
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_no_page_has_inline_script_or_inline_style(tmp_path: Path, sqlite_store: Store) -> None:
    exercise_id = _running_exercise(sqlite_store, None)
    client, _ = client_for(_library(tmp_path), sqlite_store, "olga")
    pages = [
        "/",
        "/scenarios",
        "/scenarios/scenario-2026-q2-001",
        "/exercises",
        "/findings",
        "/drills",
        f"/exercises/{exercise_id}",
        f"/exercises/{exercise_id}?mode=room",
    ]
    for path in pages:
        html = client.get(path).text
        for script in re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S):
            assert 'src="/static/' in script[0], (path, script)
            assert not script[1].strip(), (path, script)
        assert " style=" not in html, path
        assert not re.search(r"<[^>]+\son[a-z]+=", html), path


def test_stored_xss_in_a_title_and_a_decision_is_escaped(
    tmp_path: Path, sqlite_store: Store
) -> None:
    """The old live view put the state JSON in a <script> with |safe: this title ran."""
    from drillbook.domain.exercise import service
    from drillbook.domain.exercise.enums import EventKind

    exercise_id = _running_exercise(sqlite_store, None)
    with sqlite_store.session() as session:
        exercise = service.get_exercise(session, exercise_id)
        exercise.title = XSS
        service.record(session, exercise, EventKind.DECISION, XSS, author=XSS)
    client, _ = client_for(_library(tmp_path), sqlite_store, "olga")
    for path in (
        f"/exercises/{exercise_id}",
        f"/exercises/{exercise_id}?mode=room",
        "/exercises",
        "/",
    ):
        html = client.get(path).text
        assert "<img src=x" not in html, path
        assert "&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html or path == "/", path
        assert "application/json" not in html  # no state embedded in the page at all


def test_a_foreign_host_header_is_refused(tmp_path: Path, sqlite_store: Store) -> None:
    """DNS rebinding: the browser sends the attacker's name as Host."""
    client, _ = client_for(_library(tmp_path), sqlite_store, "olga")
    for host in ("evil.example", "127.0.0.1.evil.example", "localhost.evil:8000", ""):
        response = client.get("/api/me", headers={"host": host})
        assert response.status_code == 400, host
        assert "olga" not in response.text
    for host in ("127.0.0.1:8000", "localhost", "[::1]:8000"):
        assert client.get("/api/me", headers={"host": host}).status_code == 200, host


def test_an_operator_named_host_is_answered(tmp_path: Path, sqlite_store: Store) -> None:
    app = create_app(_library(tmp_path), sqlite_store, allowed_hosts=["drillbook.example.org"])
    client = TestClient(app, base_url="http://drillbook.example.org")
    assert client.get("/login").status_code == 200
    assert client.get("/login", headers={"host": "other.example.org"}).status_code == 400


def test_host_parsing() -> None:
    assert host_name("[::1]:8000") == "::1"
    assert host_name("Example.ORG:443") == "example.org"
    assert is_loopback("127.0.0.5")
    assert is_loopback("localhost")
    assert is_loopback("::1")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.0.2.1")
    assert "192.0.2.1" in allowed_hosts("192.0.2.1")
    assert "0.0.0.0" not in allowed_hosts("0.0.0.0")


@pytest.mark.parametrize(
    "bad_id", ["²", "1" * 30, "-1", "0", "1e3", "9999999999", "%00", "EX-1", "1.5"]
)
def test_ids_that_are_not_plain_integers_are_404(
    tmp_path: Path, sqlite_store: Store, bad_id: str
) -> None:
    client, csrf = client_for(_library(tmp_path), sqlite_store, "olga")
    for path in (
        f"/exercises/{bad_id}",
        f"/api/exercises/{bad_id}",
        f"/exercises/{bad_id}/stream",
        f"/api/exercises/{bad_id}/status",
        f"/drills/{bad_id}",
        f"/api/drills/{bad_id}",
    ):
        assert client.get(path).status_code == 404, path
    response = client.post(
        f"/api/exercises/{bad_id}/decisions", json={"text": "x"}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 404
    assert response.json()["status"] == 404


def test_the_cli_parser_refuses_odd_ids_cleanly() -> None:
    from drillbook.domain.exercise.service import parse_exercise_id
    from drillbook.errors import NotFoundError

    for text in ("²", "1" * 30):
        with pytest.raises(NotFoundError):
            parse_exercise_id(text)


def test_api_docs_need_no_cdn_and_the_favicon_is_served(
    tmp_path: Path, sqlite_store: Store
) -> None:
    client, _ = client_for(_library(tmp_path), sqlite_store, "olga")
    assert client.get("/docs").status_code == 404  # Swagger from a CDN: not offered
    schema = client.get("/api/openapi.json").json()
    assert "/api/exercises/{exercise_id}" in schema["paths"]
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg")
    for html in (client.get("/").text, client.get("/login").text):
        assert "cdn" not in html.lower()
        assert "https://" not in html


def test_session_cookie_is_signed_httponly_and_samesite(
    tmp_path: Path, sqlite_store: Store
) -> None:
    library = _library(tmp_path)
    client = TestClient(create_app(library, sqlite_store), base_url=BASE_URL)
    cookie = client.get("/login").headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie
    secure = TestClient(create_app(library, sqlite_store, secure_cookies=True), base_url=BASE_URL)
    assert "Secure" in secure.get("/login").headers["set-cookie"]
    # a forged cookie is no session
    client.cookies.set("drillbook_session", "eyJhY2NvdW50IjoxfQ.forged.sig")
    assert client.get("/api/me").status_code == 401


def test_serve_warns_when_not_on_loopback(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from drillbook.cli.main import app
    from drillbook.web import server

    ran: list[str] = []
    monkeypatch.setattr(server.WebServer, "run", lambda self, sockets=None: ran.append("run"))
    monkeypatch.setenv("DRILLBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    assert "not loopback" in result.output
    assert ran == ["run"]
    quiet = CliRunner().invoke(app, ["serve"])
    assert "not loopback" not in quiet.output
