"""scenario generate --llm against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.domain.inventory.service import load_inventory
from drillbook.domain.scenario.enums import Category
from drillbook.planning.generate import GenerateRequest, generate_scenario, scenario_text
from drillbook.planning.llm import prose_of, rewrite_prose
from tests.helpers import FILES

GOOD = FILES / "inventory" / "three-agents.yaml"
Answer = Callable[[dict[str, Any]], tuple[int, str | bytes]]


def _rewrite_all(value: Any) -> Any:
    if isinstance(value, str):
        return "Rewritten: " + value
    if isinstance(value, list):
        return [_rewrite_all(v) for v in value]
    return {k: _rewrite_all(v) for k, v in value.items()}


def polite(request: dict[str, Any]) -> tuple[int, str]:
    prose = json.loads(request["messages"][-1]["content"])
    content = "```json\n" + json.dumps(_rewrite_all(prose)) + "\n```"
    return 200, json.dumps({"choices": [{"message": {"role": "assistant", "content": content}}]})


def garbage(request: dict[str, Any]) -> tuple[int, str]:
    return 200, json.dumps({"choices": [{"message": {"content": "Sure! Here is a scenario."}}]})


def reshaped(request: dict[str, Any]) -> tuple[int, str]:
    prose = json.loads(request["messages"][-1]["content"])
    prose["injects"] = prose["injects"][:1]
    return 200, json.dumps({"choices": [{"message": {"content": json.dumps(prose)}}]})


class _Server:
    def __init__(self, answer: Answer) -> None:
        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                received.append(
                    {"path": self.path, "body": body, "auth": self.headers.get("Authorization")}
                )
                status, text = answer(body)
                data = text if isinstance(text, bytes) else text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[[Answer], _Server]]:
    servers: list[_Server] = []

    def start(answer: Answer) -> _Server:
        servers.append(_Server(answer))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _scenario() -> Any:
    return generate_scenario(load_inventory(GOOD), GenerateRequest(Category.PROMPT_INJECTION, 3))


def test_rewritten_prose_keeps_the_structure(serve: Callable[[Answer], _Server]) -> None:
    server = serve(polite)
    original = _scenario()
    result = rewrite_prose(original, url=server.url, model="local-model", api_key="k3y")
    assert result.rewritten, result.notice
    assert server.received[0]["path"] == "/v1/chat/completions"
    assert server.received[0]["auth"] == "Bearer k3y"
    assert server.received[0]["body"]["model"] == "local-model"
    new = result.scenario
    assert new.title.startswith("Rewritten: ")
    assert all(i.description.startswith("Rewritten: ") for i in new.injects)
    assert [i.time for i in new.injects] == [i.time for i in original.injects]
    assert [(d.phase, d.at, d.owner_role, d.options) for d in new.decision_points] == [
        (d.phase, d.at, d.owner_role, d.options) for d in original.decision_points
    ]
    assert new.success_criteria == original.success_criteria
    assert new.id == original.id
    assert new.participants == original.participants


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (garbage, "not JSON"),
        (reshaped, "changed the structure"),
        (lambda _: (500, "{}"), "HTTP 500"),
        (lambda _: (200, b"\x80\x81{"), "not JSON"),  # not even UTF-8: was a traceback
    ],
)
def test_bad_answers_fall_back_to_the_deterministic_scenario(
    serve: Callable[[Answer], _Server], answer: Answer, reason: str
) -> None:
    server = serve(answer)
    original = _scenario()
    result = rewrite_prose(original, url=server.url + "/v1")
    assert not result.rewritten
    assert reason in result.notice
    assert "deterministic" in result.notice
    assert result.scenario == original


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_refused_connection_falls_back() -> None:
    original = _scenario()
    result = rewrite_prose(original, url=f"http://127.0.0.1:{_closed_port()}", timeout=3)
    assert not result.rewritten
    assert "did not answer" in result.notice
    assert result.scenario == original
    assert prose_of(result.scenario)["title"] == original.title


def test_cli_llm_success_and_fallback(
    serve: Callable[[Answer], _Server],
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = serve(polite)
    out = tmp_path / "llm.yaml"
    monkeypatch.setenv("DRILLBOOK_LLM_URL", server.url)
    monkeypatch.setenv("DRILLBOOK_LLM_MODEL", "tiny")
    done = runner.invoke(
        app,
        [
            "scenario",
            "generate",
            "--inventory",
            str(GOOD),
            "--type",
            "prompt_injection",
            "--seed",
            "3",
            "-o",
            str(out),
            "--llm",
        ],
    )
    assert done.exit_code == 0, done.output
    assert "prose rewritten by tiny" in done.output
    assert "Rewritten: " in out.read_text(encoding="utf-8")
    fallback = tmp_path / "fallback.yaml"
    refused = runner.invoke(
        app,
        [
            "scenario",
            "generate",
            "--inventory",
            str(GOOD),
            "--type",
            "prompt_injection",
            "--seed",
            "3",
            "-o",
            str(fallback),
            "--llm",
            "--llm-url",
            f"http://127.0.0.1:{_closed_port()}",
        ],
    )
    assert refused.exit_code == 0, refused.output
    assert "LLM rewrite skipped" in refused.output
    assert fallback.read_text(encoding="utf-8") == scenario_text(_scenario())
    monkeypatch.delenv("DRILLBOOK_LLM_URL")
    missing = runner.invoke(
        app,
        ["scenario", "generate", "--inventory", str(GOOD), "--type", "other", "-o", "-", "--llm"],
    )
    assert missing.exit_code == 1
    assert "DRILLBOOK_LLM_URL" in missing.output
