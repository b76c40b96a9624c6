"""Property tests for what drillbook reads from trackers' answers (rate-limit headers,
``Link`` headers, markers) and the defences against hostile finding text."""

from __future__ import annotations

from datetime import date

import httpx
from hypothesis import given
from hypothesis import strategies as st

from drillbook.notify.digest import Digest, DigestLine, Recipient
from drillbook.notify.email import EmailNotifier
from drillbook.notify.settings import EmailSettings
from drillbook.notify.webhook import WebhookDigestNotifier
from drillbook.trackers.base import parse_date, rate_limit_wait
from drillbook.trackers.github import next_link, quiet

_header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40)


@given(status=st.sampled_from([200, 400, 401, 403, 429, 500]), retry=_header_text,
       remaining=st.sampled_from([None, "0", "5"]), reset=_header_text)  # fmt: skip
def test_rate_limit_wait_never_fails_and_never_goes_negative(
    status: int, retry: str, remaining: str | None, reset: str
) -> None:
    headers = {"x-ratelimit-reset": reset}
    if retry:
        headers["retry-after"] = retry
    if remaining is not None:
        headers["x-ratelimit-remaining"] = remaining
    wait = rate_limit_wait(httpx.Response(status, headers=headers))
    if status not in (403, 429):
        assert wait is None
    if wait is not None:
        assert wait >= 0


def test_rate_limit_wait_reads_the_documented_headers() -> None:
    assert rate_limit_wait(httpx.Response(429, headers={"Retry-After": "7"})) == 7
    assert rate_limit_wait(httpx.Response(403, headers={"retry-after": "30"})) == 30
    assert rate_limit_wait(httpx.Response(403)) is None  # a plain 403 is an auth failure
    assert rate_limit_wait(httpx.Response(429)) == 1.0


@given(_header_text)
def test_next_link_only_follows_rel_next(text: str) -> None:
    found = next_link(httpx.Response(200, headers={"link": text}))
    assert found is None or (f"<{found}>" in text and 'rel="next"' in text)


def test_next_link_of_a_github_header() -> None:
    header = (
        '<https://api.github.com/repositories/1/issues?page=2>; rel="next", '
        '<https://api.github.com/repositories/1/issues?page=5>; rel="last"'
    )
    link = next_link(httpx.Response(200, headers={"link": header}))
    assert link == "https://api.github.com/repositories/1/issues?page=2"


@given(st.text(max_size=30))
def test_parse_date_never_fails(text: str) -> None:
    value = parse_date(text)
    assert value is None or isinstance(value, date)


def _digest(description: str, name: str = "Alice") -> Digest:
    line = DigestLine("F-001", "high", description, date(2026, 3, 1), "remind-7d", "yours")
    return Digest(Recipient("alice", name, "alice@acme.test"), "Acme", date(2026, 2, 22), [line])


def test_hostile_text_cannot_ping_or_add_headers() -> None:
    assert "@\u200beveryone" in quiet("cc @everyone")
    sent: list[dict[str, object]] = []

    def receive(request: httpx.Request) -> httpx.Response:
        import json

        sent.append(json.loads(request.content))
        return httpx.Response(200, text="ok")

    hook = WebhookDigestNotifier(
        "https://hooks.example/x", client=httpx.Client(transport=httpx.MockTransport(receive))
    )
    hook.send_digest(_digest("<!channel> <https://evil.example|click> & more"))
    text = str(sent[0]["text"])
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;" in text
    assert "&amp; more" in text
    mailer = EmailNotifier(EmailSettings(host="127.0.0.1", sender="d@acme.test"))
    message = mailer.message(_digest("x", name="Alice\r\nBcc: victim@evil.example"))
    assert message["Bcc"] is None
    assert "\n" not in str(message["To"])
