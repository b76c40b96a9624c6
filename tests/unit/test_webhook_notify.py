"""Slack-compatible webhook notices, against a real HTTP receiver on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from drillbook import clock
from drillbook.domain.drill import service
from drillbook.errors import AdapterError
from drillbook.flows.drill_run import run_drill
from drillbook.notify.base import DrillNotice
from drillbook.notify.webhook import WebhookNotifier
from drillbook.storage.engine import Store


class Receiver:
    def __init__(self) -> None:
        self.posts: list[dict[str, Any]] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length))
                outer.posts.append(
                    {"path": self.path, "body": body, "type": self.headers.get("Content-Type")}
                )
                self.send_response(outer.status)
                self.end_headers()
                answer = (
                    b"invalid_token" if outer.status != 404 else b"no route " + self.path.encode()
                )
                self.wfile.write(b"ok" if outer.status < 300 else answer)

            def log_message(self, *_args: object) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/services/T000/B000/secret"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    thread = threading.Thread(target=found.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        found.server.shutdown()
        found.server.server_close()


def _notice() -> DrillNotice:
    return DrillNotice(
        "start",
        "abc123",
        "weekly",
        "local host",
        clock.now(),
        "drillbook-drill-abc123",
        ["#security-team"],
        "staging only",
    )


def test_notice_is_posted_in_slack_shape(receiver: Receiver) -> None:
    WebhookNotifier(receiver.url).send(_notice())
    [post] = receiver.posts
    assert post["path"] == "/services/T000/B000/secret"
    assert post["type"] == "application/json"
    body = post["body"]
    assert "STARTED" in body["text"]
    assert "drillbook-drill-abc123" in body["text"]
    assert body["blocks"][0]["text"]["type"] == "mrkdwn"
    assert "#security-team" in body["text"]


def test_rejection_names_the_system_without_the_secret(receiver: Receiver) -> None:
    receiver.status = 403
    with pytest.raises(AdapterError) as caught:
        WebhookNotifier(receiver.url).send(_notice())
    assert "webhook" in str(caught.value)
    assert "HTTP 403" in str(caught.value)
    assert "secret" not in str(caught.value)


def test_unreachable_receiver_is_an_adapter_error() -> None:
    with pytest.raises(AdapterError, match="reachable"):
        WebhookNotifier("http://127.0.0.1:9/hook").send(_notice())


def test_drill_notifies_at_start_and_end(
    receiver: Receiver, tmp_path: Path, sqlite_store: Store
) -> None:
    plan = tmp_path / "p.yaml"
    plan.write_text(
        "name: tiny\nsafety:\n  notification: ['#sre-team']\n"
        "techniques:\n  - name: hi\n    test: 'true'\n"
    )
    run_id = run_drill(sqlite_store, plan, notifier=WebhookNotifier(receiver.url), use_sensor=False)
    texts = [p["body"]["text"] for p in receiver.posts]
    assert len(texts) == 2
    assert "STARTED" in texts[0]
    assert run_id in texts[0]
    assert "#sre-team" in texts[0]
    assert "ENDED" in texts[1]
    assert "(completed)" in texts[1]
    assert "succeeded: 1" in texts[1]


def test_failed_start_notice_runs_nothing(
    receiver: Receiver, tmp_path: Path, sqlite_store: Store
) -> None:
    receiver.status = 500
    marker = tmp_path / "ran"
    plan = tmp_path / "p.yaml"
    plan.write_text(
        f"name: tiny\ntechniques:\n  - name: hi\n    test: 'echo x > {marker}'\n"
        f"    cleanup: 'true'\n"
    )
    with pytest.raises(AdapterError):
        run_drill(sqlite_store, plan, notifier=WebhookNotifier(receiver.url))
    assert not marker.exists()
    with sqlite_store.session() as session:
        [run] = service.list_runs(session)
        assert run.status == "aborted"
        assert "start notice failed" in (run.abort_reason or "")


def test_errors_never_show_credentials_or_an_echoed_path(receiver: Receiver) -> None:
    receiver.status = 404
    url = receiver.url.replace("http://", "http://hook:pa55word@")
    with pytest.raises(AdapterError) as caught:
        WebhookNotifier(url).send(_notice())
    assert "pa55word" not in str(caught.value)
    assert "hook:pa55word@" not in str(caught.value)
    assert "T000" not in str(caught.value)
    assert "no route ***" in str(caught.value)
    assert WebhookNotifier(url).where == receiver.url.split("/services")[0]
