"""SLA reminders and escalation over a constructed month, delivered over STARTTLS with
authentication to a real SMTP server (aiosmtpd) on loopback; Teams and webhook digests
to a real HTTP receiver on loopback."""

from __future__ import annotations

import email
import json
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.clock import FakeClock
from drillbook.domain.finding import service
from drillbook.domain.program.models import Program
from drillbook.errors import AdapterError, LibraryError
from drillbook.flows.escalation import run_escalation
from drillbook.library.loader import load_program
from drillbook.notify.email import EmailNotifier
from drillbook.notify.settings import NotifySettings
from drillbook.notify.teams import TeamsNotifier
from drillbook.notify.webhook import WebhookDigestNotifier
from drillbook.storage.engine import Store
from tests.helpers import require_binary

PASSWORD = "smtp-pa55word"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Received:
    messages: list[Message] = field(default_factory=list)
    tls: list[bool] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)


@dataclass
class Smtp:
    port: int
    ca_file: Path
    received: Received


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[Smtp]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    openssl = require_binary("openssl")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    received = Received()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.messages.append(email.message_from_bytes(envelope.content))
            received.tls.append(session.ssl is not None)
            return "250 OK"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
        ok = isinstance(auth, LoginPassword) and auth.password == PASSWORD.encode()
        if ok:
            received.logins.append(auth.login.decode())
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535

    port = _free_port()
    controller = Controller(
        Handler(),
        hostname="127.0.0.1",
        port=port,
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield Smtp(port, cert, received)
    finally:
        controller.stop()


PROGRAM = Program.model_validate(
    {
        "organisation": "Acme",
        "teams": [{"id": "sre", "lead": "alice", "escalation_contact": "bob"}],
        "people": [
            {"id": "alice", "name": "Alice A", "email": "alice@acme.test", "team": "sre"},
            {"id": "bob", "name": "Bob B", "email": "bob@acme.test", "team": "sre"},
            {"id": "sam", "name": "Sam S", "email": "sam@acme.test"},
        ],
    }
)


def _settings(port: int, ca_file: Path) -> NotifySettings:
    return NotifySettings.model_validate(
        {
            "security_lead": "sam",
            "email": {
                "host": "127.0.0.1",
                "port": port,
                "sender": "drillbook@acme.test",
                "username": "drillbook",
                "password_env": "DRILLBOOK_TEST_SMTP_PASSWORD",
                "ca_file": str(ca_file),
            },
        }
    )


START = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)


def _day(n: int) -> date:
    return (START + timedelta(days=n - 1)).date()


def _month_of_findings(store: Store) -> dict[str, str]:
    """F-001 due day 10 (alice), F-002 due day 20 (alice), F-003 due day 5 (bob), F-004
    due day 25 (alice, resolved on day 22)."""
    plan = [("alice", 10), ("alice", 20), ("bob", 5), ("alice", 25)]
    ids = {}
    with store.session() as session:
        for owner, due in plan:
            finding = service.create_finding(
                session, description=f"gap due on day {due}", severity="high",
                source="exercise", owner=owner, team="sre",
            )  # fmt: skip
            finding.due_date = _day(due)
            ids[f"{owner}-{due}"] = finding.id
    return ids


def test_a_month_of_due_dates_sends_each_notice_once(
    store: Store, fake_clock: FakeClock, smtp: Smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRILLBOOK_TEST_SMTP_PASSWORD", PASSWORD)
    fake_clock.set(START)
    ids = _month_of_findings(store)
    settings = _settings(smtp.port, smtp.ca_file)
    notifier = EmailNotifier.from_settings(settings)
    seen: set[tuple[int, str, str]] = set()
    for day in range(1, 31):
        fake_clock.set(START + timedelta(days=day - 1))
        if day == 22:
            with store.session() as session:
                service.set_status(session, service.get_finding(session, ids["alice-25"]),
                                   "resolved")  # fmt: skip
        before = len(smtp.received.messages)
        first = run_escalation(store, PROGRAM, settings, notifier)
        after_first = len(smtp.received.messages)
        second = run_escalation(store, PROGRAM, settings, notifier)
        assert second.sent == {}, f"day {day}: a second run sent {second.sent}"
        assert len(smtp.received.messages) == after_first
        assert after_first - before == len(first.sent)  # one digest per person
        for message in smtp.received.messages[before:]:
            body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
            for fid in ids.values():
                if f"- {fid} [" in body:
                    seen.add((day, str(message["To"]), fid))
    a, b, s = "Alice A <alice@acme.test>", "Bob B <bob@acme.test>", "Sam S <sam@acme.test>"
    f1, f2, f3, f4 = ids["alice-10"], ids["alice-20"], ids["bob-5"], ids["alice-25"]
    expected = {
        # F-003 due day 5: the first run (4 days before) sends the 7-day reminder
        (1, b, f3), (4, b, f3), (6, b, f3), (12, b, f3), (19, s, f3),
        # F-001 due day 10: reminders 7 and 1 days before, owner, contact, lead
        (3, a, f1), (9, a, f1), (11, a, f1), (17, b, f1), (24, s, f1),
        # F-002 due day 20: the lead's step (day 34) is past the month
        (13, a, f2), (19, a, f2), (21, a, f2), (27, b, f2),
        # F-004 due day 25, resolved on day 22: only the 7-day reminder
        (18, a, f4),
    }  # fmt: skip
    assert seen == expected
    assert all(smtp.received.tls)
    assert smtp.received.logins
    assert set(smtp.received.logins) == {"drillbook"}
    message = smtp.received.messages[0]
    assert message["From"] == "drillbook <drillbook@acme.test>"
    assert message["Subject"] == "[drillbook] Acme: findings 1 due soon"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@acme.test>")
    assert message["Date"].startswith("Sun, 01 Mar 2026")
    body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Hello Bob B," in body
    assert f"- {f3} [high] due in 4 day(s) (due 2026-03-05): gap due on day 5" in body


def test_wrong_smtp_password_is_one_clear_error(
    sqlite_store: Store, fake_clock: FakeClock, smtp: Smtp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRILLBOOK_TEST_SMTP_PASSWORD", "wrong-password")
    fake_clock.set(START)
    _month_of_findings(sqlite_store)
    notifier = EmailNotifier.from_settings(_settings(smtp.port, smtp.ca_file))
    with pytest.raises(AdapterError, match="authentication failed") as failed:
        run_escalation(sqlite_store, PROGRAM, _settings(smtp.port, smtp.ca_file), notifier)
    assert "wrong-password" not in str(failed.value)
    assert smtp.received.messages == []


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    posts: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            posts.append({"path": self.path, "body": json.loads(self.rfile.read(length))})
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"1")

        def log_message(self, *_: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/webhook/secret-part", posts
    finally:
        server.shutdown()
        server.server_close()


def test_teams_and_webhook_digests(
    sqlite_store: Store, fake_clock: FakeClock, receiver: tuple[str, list[dict[str, Any]]]
) -> None:
    url, posts = receiver
    fake_clock.set(START + timedelta(days=10))  # F-003 6 days late, F-001 1 day late
    _month_of_findings(sqlite_store)
    settings = NotifySettings.model_validate({"channel": "teams", "teams": {"url_env": "X"}})
    report = run_escalation(sqlite_store, PROGRAM, settings, TeamsNotifier(url))
    assert sorted(report.sent) == ["alice", "bob"]
    assert len(posts) == 2
    card = posts[0]["body"]
    assert card["type"] == "message"
    attachment = card["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["content"]["type"] == "AdaptiveCard"
    assert attachment["content"]["version"] == "1.4"
    assert "OVERDUE" in json.dumps(attachment["content"]["body"])
    assert run_escalation(sqlite_store, PROGRAM, settings, TeamsNotifier(url)).sent == {}
    fake_clock.advance(timedelta(days=1))
    hook = NotifySettings.model_validate({"channel": "webhook", "webhook": {"url_env": "X"}})
    run_escalation(sqlite_store, PROGRAM, hook, WebhookDigestNotifier(url))
    assert len(posts) == 3  # day 12: F-003 is a week late, its team's contact hears
    slack = posts[2]["body"]
    assert slack["blocks"][0]["text"]["type"] == "mrkdwn"
    assert "Hello Bob B" in slack["text"]
    assert "escalation contact of team sre" in slack["text"]


def test_notify_settings_are_checked_with_locations(tmp_path: Path) -> None:
    (tmp_path / "drillbook.yaml").write_text(
        "organisation: Acme\nnotify:\n  channel: email\n  remind_before: [7 parsecs]\n",
        encoding="utf-8",
    )
    with pytest.raises(LibraryError) as bad:
        load_program(tmp_path)
    assert "drillbook.yaml:4:" in str(bad.value)


def test_cli_escalate_dry_run(runner: CliRunner, tmp_path: Path, fake_clock: FakeClock) -> None:
    (tmp_path / "drillbook.yaml").write_text(
        "organisation: Acme\n"
        "people: [{id: alice, name: Alice A, email: alice@acme.test}]\n"
        "notify:\n"
        "  channel: email\n"
        "  email: {host: 127.0.0.1, port: 1, sender: drillbook@acme.test}\n",
        encoding="utf-8",
    )
    fake_clock.set(START)
    base = ["-L", str(tmp_path)]
    added = runner.invoke(
        app, [*base, "finding", "add", "-d", "gap", "-s", "critical", "--owner", "alice"]
    )
    assert added.exit_code == 0, added.output
    nobody = runner.invoke(app, [*base, "finding", "add", "-d", "gap 2", "-s", "critical"])
    assert nobody.exit_code == 0
    fake_clock.advance(timedelta(days=2))
    result = runner.invoke(app, [*base, "escalate", "--dry-run", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["sent"] == {"alice": ["F-001 remind-7d@2026-03-08"]}
    assert report["unreachable"] == ["F-002 remind-7d@2026-03-08: no owner to tell"]
    again = runner.invoke(app, [*base, "escalate", "--dry-run", "--json"])
    assert json.loads(again.output)["sent"] == report["sent"]  # a dry run records nothing


@pytest.mark.parametrize("remind", [["7d", "1d"], ["30d"], []])
def test_the_candidates_plan_what_every_open_finding_plans(store: Store, remind: list[str]) -> None:
    """escalate reads only the findings due by the earliest reminder step, without their
    history: the notices planned are those planned from every open finding (random
    histories with due dates around today, expired and live risk acceptances)."""
    import random

    from sqlalchemy import insert

    from drillbook.domain.finding.models import Finding
    from drillbook.flows.escalation import notice_candidates, plan_notices
    from tests.unit.test_program_metrics_random import TODAY, _history

    rows = _history(random.Random(len(remind)), 400)[1]
    for row in rows:  # owners the program knows, some it does not
        row["owner"] = random.Random(row["number"]).choice(["alice", "bob", "zed", None])
        row["exercise_id"] = None
        if row["due_date"] is not None and row["number"] % 3 == 0:
            row["due_date"] = TODAY + timedelta(days=row["number"] % 45)
    with store.engine.begin() as connection:
        connection.execute(insert(Finding.__table__), rows)
    settings = _settings(25, Path("ca.pem")).model_copy(update={"remind_before": remind})
    assert settings.reminder_days() == sorted({int(r[:-1]) for r in remind}, reverse=True)
    fake = FakeClock(datetime(TODAY.year, TODAY.month, TODAY.day, 12, tzinfo=UTC))
    from drillbook import clock

    with clock.use_clock(fake), store.session() as session:
        every = service.list_findings(session, active=True)
        candidates = notice_candidates(session, settings, TODAY)
        expected = plan_notices(every, PROGRAM, settings, TODAY)
        got = plan_notices(candidates, PROGRAM, settings, TODAY)
        assert got == expected
        assert expected[0]  # notices were planned
        assert len(candidates) < len(every)  # and some open findings were not read
