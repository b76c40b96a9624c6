"""SIEM backends against recorded responses of their documented APIs (httpx.MockTransport).

Each backend is driven through the same five situations: the rule fired, no events
arrived, events arrived but the rule did not fire, authentication failed, and the API
timed out. The secret never appears in any message.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drillbook.detection.base import DetectionBackend, RuleRef, Verdict, Window
from drillbook.detection.config import DetectionConfig
from drillbook.detection.registry import available, load_backend
from drillbook.errors import AdapterError, ConfigError
from tests.helpers import FILES

SIEM = FILES / "detection" / "siem"
RULE = FILES / "detection" / "rules" / "whoami_exact.yml"
SECRET = "s3cr3t-token-do-not-print-7d1f"
T0 = datetime(2026, 4, 29, 14, 30, tzinfo=UTC)
WINDOW = Window(T0, T0 + timedelta(minutes=5))
SIGMA_RULE = RuleRef(
    title="System Information Discovery",
    rule_id="42df45e7-e6e9-43b5-8f26-bec5b39cc239",
    sigma_path=RULE,
    level="informational",
)


def recorded(name: str, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=json.loads((SIEM / name).read_text()))


def body_text(request: httpx.Request) -> str:
    return request.content.decode()


@dataclass
class Api:
    """Which recorded answer each kind of call gets, per situation."""

    name: str
    kind: Callable[[httpx.Request], str]  # "alerts", "events" or "matching"
    answers: dict[str, dict[str, str]]
    auth_failure: tuple[str, int]
    header: str


def splunk_kind(request: httpx.Request) -> str:
    form = dict(httpx.QueryParams(body_text(request)))
    assert request.url.path == "/services/search/jobs"
    assert form["exec_mode"] == "oneshot"
    assert form["output_mode"] == "json"
    assert form["earliest_time"] == WINDOW.start.isoformat()
    if "index=notable" in form["search"]:
        return "alerts"
    return "matching" if "whoami" in form["search"] else "events"


def elastic_kind(request: httpx.Request) -> str:
    if request.url.path.endswith("/_search"):
        assert ".alerts-security.alerts-" in request.url.path
        return "alerts"
    assert request.url.path.endswith("/_count")
    return "matching" if "query_string" in body_text(request) else "events"


def sentinel_kind(request: httpx.Request) -> str:
    assert request.url.path == "/v1/workspaces/ws-123/query"
    body = json.loads(body_text(request))
    assert body["timespan"] == f"{WINDOW.start.isoformat()}/{WINDOW.end.isoformat()}"
    if body["query"].startswith("SecurityAlert"):
        return "alerts"
    return "events" if body["query"].startswith("Syslog") else "matching"


def loki_kind(request: httpx.Request) -> str:
    if request.url.path == "/loki/api/v1/query_range":
        assert "whoami" in request.url.params["query"]
        return "alerts"
    assert request.url.path == "/loki/api/v1/query"
    return "events"


APIS = {
    "splunk": Api(
        "splunk",
        splunk_kind,
        {
            "fired": {"alerts": "splunk_alerts.json"},
            "not_fired": {
                "alerts": "splunk_empty.json",
                "events": "splunk_count_42.json",
                "matching": "splunk_count_0.json",
            },
            "no_events": {"alerts": "splunk_empty.json", "events": "splunk_count_0.json"},
        },
        ("splunk_401.json", 401),
        f"Bearer {SECRET}",
    ),
    "elastic": Api(
        "elastic",
        elastic_kind,
        {
            "fired": {"alerts": "elastic_alerts.json"},
            "not_fired": {
                "alerts": "elastic_no_alerts.json",
                "events": "elastic_count_42.json",
                "matching": "elastic_count_42.json",
            },
            "no_events": {"alerts": "elastic_no_alerts.json", "events": "elastic_count_0.json"},
        },
        ("elastic_401.json", 401),
        f"ApiKey {SECRET}",
    ),
    "sentinel": Api(
        "sentinel",
        sentinel_kind,
        {
            "fired": {"alerts": "sentinel_alerts.json"},
            "not_fired": {
                "alerts": "sentinel_no_alerts.json",
                "events": "sentinel_count_42.json",
                "matching": "sentinel_count_0.json",
            },
            "no_events": {"alerts": "sentinel_no_alerts.json", "events": "sentinel_count_0.json"},
        },
        ("sentinel_403.json", 403),
        f"Bearer {SECRET}",
    ),
    "loki": Api(
        "loki",
        loki_kind,
        {
            "fired": {"alerts": "loki_streams.json"},
            "not_fired": {"alerts": "loki_no_streams.json", "events": "loki_count_42.json"},
            "no_events": {"alerts": "loki_no_streams.json", "events": "loki_count_0.json"},
        },
        ("loki_streams.json", 401),
        f"Bearer {SECRET}",
    ),
}


def config_for(name: str) -> DetectionConfig:
    sections: dict[str, Any] = {
        "splunk": {"url": "https://splunk.example:8089", "token_env": "DRILL_TEST_TOKEN"},
        "elastic": {"url": "https://es.example:9200", "api_key_env": "DRILL_TEST_TOKEN"},
        "sentinel": {"workspace_id": "ws-123", "token_env": "DRILL_TEST_TOKEN"},
        "loki": {
            "url": "https://loki.example",
            "token_env": "DRILL_TEST_TOKEN",
            "org_id": "drills",
        },
    }
    return DetectionConfig.model_validate({"backend": name, name: sections[name]})


def backend_for(name: str, situation: str, seen: list[httpx.Request]) -> DetectionBackend:
    api = APIS[name]

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        assert request.headers["Authorization"] == api.header
        if situation == "auth":
            return recorded(*api.auth_failure)
        if situation == "timeout":
            raise httpx.ReadTimeout("timed out", request=request)
        kind = api.kind(request)
        return recorded(api.answers[situation][kind])

    return load_backend(name, config_for(name), transport=httpx.MockTransport(handler))


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRILL_TEST_TOKEN", SECRET)


NAMES = sorted(APIS)


def test_every_backend_is_found_by_its_entry_point_name() -> None:
    assert {"local", *NAMES} <= set(available())


@pytest.mark.parametrize("name", NAMES)
def test_a_fired_rule_reports_when_and_how_severe(name: str) -> None:
    seen: list[httpx.Request] = []
    result = backend_for(name, "fired", seen).check_once(SIGMA_RULE, WINDOW)
    assert result.verdict is Verdict.FIRED
    assert result.first_alert_at is not None
    assert WINDOW.start <= result.first_alert_at
    assert result.fired_severity == ("low" if name == "elastic" else "informational")
    if name in ("splunk", "elastic", "sentinel"):  # the SIEM keeps a human's acknowledgement
        assert result.acknowledged_at == datetime(2026, 4, 29, 14, 34, 1, tzinfo=UTC)
    if name == "loki":
        assert seen[0].headers["X-Scope-OrgID"] == "drills"
        assert result.first_alert_at == datetime(2026, 4, 29, 14, 30, 1, 131000, tzinfo=UTC)


@pytest.mark.parametrize("name", NAMES)
def test_no_events_is_not_the_same_as_a_rule_that_did_not_fire(name: str) -> None:
    result = backend_for(name, "no_events", []).check_once(SIGMA_RULE, WINDOW)
    assert result.verdict is Verdict.NO_EVENTS
    assert "log pipeline" in result.detail


@pytest.mark.parametrize("name", NAMES)
def test_events_without_an_alert_mean_the_rule_did_not_fire(name: str) -> None:
    result = backend_for(name, "not_fired", []).check_once(SIGMA_RULE, WINDOW)
    assert result.verdict is Verdict.NOT_FIRED
    assert result.events_seen == 42
    if name == "elastic":  # the query matches but nothing alerted: a muted rule
        assert result.matching_events == 42
        assert "enabled" in result.detail
    if name in ("splunk", "sentinel"):
        assert result.matching_events == 0
        assert "field names" in result.detail


@pytest.mark.parametrize("name", NAMES)
def test_authentication_failure_names_the_system_the_call_and_what_to_check(name: str) -> None:
    with pytest.raises(AdapterError) as caught:
        backend_for(name, "auth", []).check_once(SIGMA_RULE, WINDOW)
    message = str(caught.value)
    assert message.startswith(f"{name}: ")
    assert "authentication failed" in message
    assert "DRILL_TEST_TOKEN" in message  # where the secret comes from...
    assert SECRET not in message  # ...never the secret itself


@pytest.mark.parametrize("name", NAMES)
def test_a_timeout_is_one_clear_message(name: str) -> None:
    with pytest.raises(AdapterError) as caught:
        backend_for(name, "timeout", []).check_once(SIGMA_RULE, WINDOW)
    message = str(caught.value)
    assert "no answer within 30 s" in message
    assert "timeout_seconds" in message
    assert SECRET not in message


@pytest.mark.parametrize("name", NAMES)
def test_a_missing_secret_names_the_variable(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DRILL_TEST_TOKEN")
    with pytest.raises(ConfigError, match=r"\$DRILL_TEST_TOKEN, which is not set"):
        backend_for(name, "fired", []).check_once(SIGMA_RULE, WINDOW)


def test_a_server_error_body_is_scrubbed_of_the_secret() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text=f"internal error while using token {SECRET}")

    backend = load_backend("splunk", config_for("splunk"), transport=httpx.MockTransport(handler))
    with pytest.raises(AdapterError) as caught:
        backend.check_once(SIGMA_RULE, WINDOW)
    assert "HTTP 500" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_sentinel_client_credentials_flow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTINEL_SECRET", SECRET)
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.host)
        if request.url.host == "login.microsoftonline.com":
            form = dict(httpx.QueryParams(body_text(request)))
            assert form["grant_type"] == "client_credentials"
            assert form["scope"] == "https://api.loganalytics.io/.default"
            return httpx.Response(
                200,
                json={
                    "token_type": "Bearer",
                    "expires_in": 3599,
                    "access_token": "eyJ0eXAi.access",
                },
            )
        assert request.headers["Authorization"] == "Bearer eyJ0eXAi.access"
        return recorded("sentinel_alerts.json")

    config = DetectionConfig.model_validate(
        {
            "backend": "sentinel",
            "sentinel": {
                "workspace_id": "ws-123",
                "tenant_id": "tenant-1",
                "client_id": "app-1",
                "client_secret_env": "SENTINEL_SECRET",
            },
        }
    )
    backend = load_backend("sentinel", config, transport=httpx.MockTransport(handler))
    assert backend.check_once(SIGMA_RULE, WINDOW).fired
    assert calls == ["login.microsoftonline.com", "api.loganalytics.io"]


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("splunk", "Image"),
        ("elastic", "process.executable"),  # ECS, not Sysmon's Image
        ("sentinel", "imProcessCreate"),
        ("loki", '{job=~".+"}'),
    ],
)
def test_sigma_converts_through_each_pysigma_backend(name: str, needle: str) -> None:
    backend = load_backend(name, config_for(name))
    query = backend.convert(Path(RULE).read_text())
    assert needle in query
    assert "whoami" in query


def test_polling_waits_for_ingestion_until_the_deadline(fake_clock: Any) -> None:
    answers = iter(["not_fired", "fired"])
    current = {"situation": "no_events"}

    def handler(request: httpx.Request) -> httpx.Response:
        return recorded(
            APIS["elastic"]
            .answers[current["situation"]]
            .get(elastic_kind(request), "elastic_count_0.json")
        )

    def sleep(seconds: float) -> None:
        fake_clock.advance(seconds)
        current["situation"] = next(answers)

    backend = load_backend("elastic", config_for("elastic"), transport=httpx.MockTransport(handler))
    deadline = fake_clock.now() + timedelta(minutes=2)
    result = backend.wait_for(SIGMA_RULE, WINDOW, deadline=deadline, poll_interval=10, sleep=sleep)
    assert result.fired
    assert result.polls == 3
    quiet = backend.wait_for(
        SIGMA_RULE,
        WINDOW,
        deadline=fake_clock.now() + timedelta(seconds=25),
        poll_interval=10,
        sleep=lambda s: fake_clock.advance(s),
    )
    assert quiet.fired  # still answering "fired"; a silent rule stops at the deadline:
    current["situation"] = "no_events"
    silent = backend.wait_for(
        SIGMA_RULE,
        WINDOW,
        deadline=fake_clock.now() + timedelta(seconds=25),
        poll_interval=10,
        sleep=lambda s: fake_clock.advance(s),
    )
    assert silent.verdict is Verdict.NO_EVENTS
    assert silent.polls == 4


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "results",
                    "count",
                    "hits",
                    "tables",
                    "columns",
                    "rows",
                    "status",
                    "data",
                    "result",
                    "values",
                    "_time",
                    "name",
                    "value",
                    "_source",
                    "@timestamp",
                    "Count",
                    "TimeGenerated",
                    "stream",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_json)
def test_any_answer_is_a_result_or_one_clear_error(name: str, body: object) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=body))
    backend = load_backend(name, config_for(name), transport=transport)
    message = ""
    try:
        verdict = backend.check_once(SIGMA_RULE, WINDOW).verdict
    except AdapterError as exc:
        message, verdict = str(exc), None
    assert verdict in {*Verdict, None}
    assert verdict is not None or message.startswith(f"{name}: ")


def test_connection_errors_never_show_credentials_in_the_url() -> None:
    from drillbook.detection.siem import ApiClient

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = ApiClient(
        "splunk",
        "https://drill:pa55word@siem.example:8089/api?token=t0ken",
        headers=dict,
        secret_hint="the token",
        transport=httpx.MockTransport(refuse),
    )
    with pytest.raises(AdapterError) as caught:
        client.request("search", "GET", "/jobs")
    client.close()
    message = str(caught.value)
    assert "https://siem.example:8089/api" in message
    assert "pa55word" not in message
    assert "t0ken" not in message
