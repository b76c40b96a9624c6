"""The MCP server over streamable HTTP behind the web app, driven by the SDK's own client.

A real uvicorn server on loopback serves `drillbook serve`'s app; agents sign in with API
tokens issued by `drillbook user token`. Checked: initialize, list tools and call them
with a token; no token and a wrong or revoked token are refused (401); another team's
exercise is "not found"; a viewer may not log a decision; every call and every refusal
is a line in the append-only audit log naming the account and the agent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from typer.testing import CliRunner

from drillbook.cli.main import app as cli
from drillbook.domain.account.service import audit_entries
from drillbook.domain.exercise import service
from drillbook.storage.engine import Store, open_store
from drillbook.web.app import create_app
from drillbook.web.server import WebServer
from tests.e2e.conftest import free_port
from tests.web_helpers import add_account

pytestmark = pytest.mark.slow

SCENARIO = "mcp-server-data-exfiltration"


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    assert CliRunner().invoke(cli, ["init", str(root)]).exit_code == 0
    return root


@pytest.fixture
def served(library: Path) -> Iterator[tuple[str, Store]]:
    store = open_store(library)
    add_account(store, "ada", "admin")
    add_account(store, "sam", "facilitator", "support")
    add_account(store, "vic", "viewer", "support")
    port = free_port()
    server = WebServer(create_app(library, store), host="127.0.0.1", port=port, lifespan="on")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the web server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", store
    finally:
        server.stop()
        thread.join(timeout=10)
        store.close()


def _token(library: Path, username: str, client: str) -> str:
    done = CliRunner().invoke(
        cli, ["--library", str(library), "user", "token", username, "--client", client, "--json"]
    )
    assert done.exit_code == 0, done.output
    return str(json.loads(done.output)["token"])


async def _session(url: str, token: str | None, body: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=30) as http:
        transport = streamable_http_client(f"{url}/mcp", http_client=http)
        async with Client(transport, mode="legacy", read_timeout_seconds=60) as client:
            return await body(client)


def _error_text(result: Any) -> str:
    assert result.is_error, result.structured_content
    return " ".join(getattr(c, "text", "") for c in result.content)


def test_agents_sign_in_with_tokens_and_see_only_their_team(
    library: Path, served: tuple[str, Store]
) -> None:
    url, store = served
    admin = _token(library, "ada", "ops-agent")
    support = _token(library, "sam", "support-bot")
    viewer = _token(library, "vic", "read-bot")

    async def as_admin(client: Client) -> dict[str, Any]:
        tools = {t.name for t in (await client.list_tools()).tools}
        created = await client.call_tool(
            "exercise_create", {"scenario_id": SCENARIO, "team": "sales"}
        )
        assert not created.is_error, created.content
        return {"tools": tools, "sales": created.structured_content["exercise"]}  # type: ignore[index]

    seen = anyio.run(_session, url, admin, as_admin)
    assert {"exercise_create", "exercise_decide", "finding_draft"} <= seen["tools"]
    assert "drill_run" not in seen["tools"], "drills are never offered over HTTP"
    sales = seen["sales"]

    async def as_support(client: Client) -> dict[str, Any]:
        own = await client.call_tool("exercise_create", {"scenario_id": SCENARIO})
        mine = own.structured_content["exercise"]  # type: ignore[index]
        started = await client.call_tool("exercise_start", {"exercise_id": mine})
        decided = await client.call_tool(
            "exercise_decide", {"exercise_id": mine, "text": "Rotate the MCP token"}
        )
        assert not started.is_error, started.content
        assert not decided.is_error, decided.content
        status = await client.call_tool("exercise_status", {"exercise_id": sales})
        decide = await client.call_tool("exercise_decide", {"exercise_id": sales, "text": "x"})
        with pytest.raises(MCPError) as report:
            await client.read_resource(f"drillbook://reports/{sales}")
        return {
            "report": str(report.value),
            "own": own.structured_content,
            "status": _error_text(status),
            "decide": _error_text(decide),
        }

    support_seen = anyio.run(_session, url, support, as_support)
    assert support_seen["own"]["team"] == "support"
    assert f"no exercise {sales} for team support" in support_seen["status"]
    assert f"no exercise {sales} for team support" in support_seen["decide"]
    assert f"no exercise {sales} for team support" in support_seen["report"]
    mine = support_seen["own"]["exercise"]

    async def as_viewer(client: Client) -> dict[str, Any]:
        status = await client.call_tool("exercise_status", {"exercise_id": mine})
        decide = await client.call_tool("exercise_decide", {"exercise_id": mine, "text": "y"})
        model = await client.call_tool(
            "exercise_plan", {"scenario_id": SCENARIO, "use_model": True}
        )
        return {
            "status": status.structured_content or {},
            "decide": _error_text(decide),
            "model": _error_text(model),
        }

    viewer_seen = anyio.run(_session, url, viewer, as_viewer)
    assert viewer_seen["status"]["exercise"] == mine  # type: ignore[index]
    assert "needs the member role" in str(viewer_seen["decide"])
    assert "exercise_plan needs the member role" in str(viewer_seen["model"])

    with store.session() as session:
        ours = service.get_exercise(session, mine)
        decision = [e for e in ours.events if e.kind == "decision"]
        assert [e.author for e in decision] == ["sam via support-bot"]
        theirs = service.get_exercise(session, sales)
        assert all(e.kind != "decision" for e in theirs.events), "a refused call logged"
        lines = [(e.actor, e.action, e.target, e.detail) for e in audit_entries(session)]
    tools = [(a, d["tool"], d["outcome"]) for a, act, _, d in lines if act == "mcp.tool"]
    assert ("ada via ops-agent", "exercise_create", "ok") in tools
    assert ("sam via support-bot", "exercise_decide", "ok") in tools
    assert ("sam via support-bot", "exercise_status", "refused") in tools
    assert ("sam via support-bot", "exercise_decide", "refused") in tools
    assert ("vic via read-bot", "exercise_status", "ok") in tools
    assert ("vic via read-bot", "exercise_decide", "refused") in tools
    refused = [d for a, act, t, d in lines if act == "mcp.tool" and d["outcome"] == "refused"]
    assert all(d["transport"] == "http" and d["account"] and d["client"] for d in refused)
    assert any(f"exercise {sales} of team sales" in d["reason"] for d in refused)
    resources = [(a, d["outcome"]) for a, act, _, d in lines if act == "mcp.resource"]
    assert resources == [("sam via support-bot", "refused")]


def test_no_token_and_wrong_tokens_are_refused_and_audited(
    library: Path, served: tuple[str, Store]
) -> None:
    url, store = served
    good = _token(library, "sam", "support-bot")
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "probe", "version": "1"},
        },
    }
    headers = {"Accept": "application/json, text/event-stream"}
    answers = {
        "none": httpx.post(f"{url}/mcp", json=initialize, headers=headers),
        "wrong": httpx.post(
            f"{url}/mcp",
            json=initialize,
            headers={**headers, "Authorization": "Bearer dbk_" + "x" * 43},
        ),
        "cookie-only": httpx.post(
            f"{url}/mcp", json=initialize, headers=headers, cookies={"drillbook_session": "x"}
        ),
        "good": httpx.post(
            f"{url}/mcp", json=initialize, headers={**headers, "Authorization": f"Bearer {good}"}
        ),
        "bad-host": httpx.post(
            f"{url}/mcp",
            json=initialize,
            headers={**headers, "Authorization": f"Bearer {good}", "Host": "evil.example"},
        ),
    }
    for name in ("none", "wrong", "cookie-only"):
        assert answers[name].status_code == 401, (name, answers[name].text)
        assert answers[name].headers["www-authenticate"].startswith("Bearer")
        assert answers[name].headers["x-frame-options"] == "DENY"
    assert answers["good"].status_code == 200, answers["good"].text
    assert answers["good"].json()["result"]["serverInfo"]["name"] == "drillbook"
    assert answers["good"].headers["content-security-policy"]
    assert "set-cookie" not in answers["good"].headers
    assert answers["bad-host"].status_code == 400

    # the SDK's client without a token cannot even initialize
    async def never(client: Client) -> None:
        raise AssertionError("connected without a token")

    with pytest.raises(ExceptionGroup) as raised:
        anyio.run(_session, url, None, never)
    assert raised.group_contains(MCPError)  # the SDK's error for the 401

    # a revoked token stops working at once
    token_id = json.loads(
        CliRunner().invoke(cli, ["--library", str(library), "user", "tokens", "--json"]).output
    )[0]["id"]
    revoked = CliRunner().invoke(
        cli, ["--library", str(library), "user", "revoke-token", str(token_id)]
    )
    assert revoked.exit_code == 0, revoked.output
    after = httpx.post(
        f"{url}/mcp", json=initialize, headers={**headers, "Authorization": f"Bearer {good}"}
    )
    assert after.status_code == 401

    with store.session() as session:
        lines = [(e.actor, e.action, e.detail) for e in audit_entries(session)]
    refusals = [d["reason"] for a, act, d in lines if act == "mcp.refused" and a == "anonymous"]
    assert refusals.count("no API token") >= 3  # none, cookie-only, the SDK's client
    assert refusals.count("unknown or revoked API token") == 2  # wrong, revoked


def test_without_the_lifespan_the_endpoint_says_so(library: Path) -> None:
    from fastapi.testclient import TestClient

    from drillbook.domain.account.tokens import account_named, issue_token

    store = open_store(library)
    try:
        add_account(store, "ada", "admin")
        with store.session() as session:
            _, secret = issue_token(session, account_named(session, "ada"), client="x")
        client = TestClient(create_app(library, store), base_url="http://127.0.0.1")
        answer = client.post("/mcp", json={}, headers={"Authorization": f"Bearer {secret}"})
        assert answer.status_code == 503
        assert "lifespan" in answer.json()["error"]
    finally:
        store.close()
