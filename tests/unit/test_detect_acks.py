"""Acknowledgement times from PagerDuty and Opsgenie (recorded responses)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from drillbook.detection.acks import opsgenie_ack, pagerduty_ack
from drillbook.detection.config import OpsgenieConfig, PagerDutyConfig
from drillbook.errors import AdapterError
from tests.helpers import FILES

SIEM = FILES / "detection" / "siem"
START = datetime(2026, 4, 29, 14, 30, tzinfo=UTC)
END = datetime(2026, 4, 29, 15, 30, tzinfo=UTC)


def answer(name: str) -> httpx.Response:
    return httpx.Response(200, json=json.loads((SIEM / name).read_text()))


def test_pagerduty_first_acknowledgement(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGERDUTY_TOKEN", "pd-secret")

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "Token token=pd-secret"
        if request.url.path == "/incidents":
            assert request.url.params.get_list("service_ids[]") == ["PIJ90N7"]
            return answer("pagerduty_incidents.json")
        assert request.url.path == "/incidents/PT4KHLK/log_entries"
        return answer("pagerduty_log_entries.json")

    found = pagerduty_ack(
        PagerDutyConfig(service_ids=["PIJ90N7"]),
        "System Information Discovery",
        START,
        END,
        transport=httpx.MockTransport(handler),
    )
    assert found == datetime(2026, 4, 29, 14, 34, tzinfo=UTC)


def test_opsgenie_ack_time_is_created_plus_ack_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPSGENIE_API_KEY", "og-secret")

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Authorization"] == "GenieKey og-secret"
        return answer("opsgenie_alerts.json")

    found = opsgenie_ack(
        OpsgenieConfig(),
        "System Information Discovery",
        START,
        END,
        transport=httpx.MockTransport(handler),
    )
    assert found == datetime(2026, 4, 29, 14, 34, tzinfo=UTC)


def test_pagerduty_auth_failure_never_shows_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAGERDUTY_TOKEN", "pd-secret")
    transport = httpx.MockTransport(lambda r: httpx.Response(401, json={"error": {}}))
    with pytest.raises(AdapterError) as caught:
        pagerduty_ack(PagerDutyConfig(), "x", START, END, transport=transport)
    assert "pagerduty: list incidents failed: authentication failed" in str(caught.value)
    assert "pd-secret" not in str(caught.value)
