"""When a human acknowledged a drill's alert, from the on-call tool.

Where the SIEM keeps no acknowledgement, the page does: PagerDuty's incident log
(``GET /incidents`` in the window, then ``GET /incidents/{id}/log_entries``, the first
``acknowledge_log_entry``) or Opsgenie's alert report (``GET /v2/alerts``, then
``report.ackTime``: milliseconds after ``createdAt``). Incidents are matched by the rule
title appearing in their title/message.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from drillbook.detection.config import OpsgenieConfig, PagerDutyConfig, secret
from drillbook.detection.siem import ApiClient
from drillbook.telemetry.readers.fields import parse_time


def pagerduty_ack(
    config: PagerDutyConfig,
    title: str,
    start: datetime,
    end: datetime,
    *,
    transport: httpx.BaseTransport | None = None,
) -> datetime | None:
    """The first acknowledgement of a PagerDuty incident naming ``title`` in the window."""
    client: ApiClient

    def headers() -> dict[str, str]:
        token = client.remember_secret(secret("pagerduty", config.token_env))
        return {
            "Authorization": f"Token token={token}",
            "Accept": "application/vnd.pagerduty+json;version=2",
        }

    client = ApiClient(
        "pagerduty",
        config.url,
        headers=headers,
        secret_hint=f"the API key in ${config.token_env} may read incidents",
        timeout=config.timeout_seconds,
        transport=transport,
    )
    try:
        params: list[tuple[str, str]] = [
            ("since", start.isoformat()),
            ("until", end.isoformat()),
            ("time_zone", "UTC"),
        ]
        params += [("service_ids[]", s) for s in config.service_ids]
        data = client.json("list incidents", "GET", "/incidents", params=params)
        found: list[datetime] = []
        for incident in data.get("incidents", []) if isinstance(data, dict) else []:
            if title.lower() not in str(incident.get("title", "")).lower():
                continue
            entries = client.json(
                "read incident log",
                "GET",
                f"/incidents/{incident['id']}/log_entries",
                params={"is_overview": "true", "time_zone": "UTC"},
            )
            for entry in entries.get("log_entries", []) if isinstance(entries, dict) else []:
                if entry.get("type") in ("acknowledge_log_entry", "resolve_log_entry"):
                    moment = parse_time(entry.get("created_at"))
                    if moment is not None:
                        found.append(moment)
        return min(found, default=None)
    finally:
        client.close()


def opsgenie_ack(
    config: OpsgenieConfig,
    title: str,
    start: datetime,
    end: datetime,
    *,
    transport: httpx.BaseTransport | None = None,
) -> datetime | None:
    """The first acknowledgement of an Opsgenie alert naming ``title`` in the window."""
    client: ApiClient

    def headers() -> dict[str, str]:
        key = client.remember_secret(secret("opsgenie", config.api_key_env, "API key"))
        return {"Authorization": f"GenieKey {key}"}

    client = ApiClient(
        "opsgenie",
        config.url,
        headers=headers,
        secret_hint=f"the API key in ${config.api_key_env} may read alerts",
        timeout=config.timeout_seconds,
        transport=transport,
    )
    try:
        query = (
            f"createdAt >= {int(start.timestamp() * 1000)} "
            f"AND createdAt <= {int(end.timestamp() * 1000)}"
        )
        data = client.json(
            "list alerts",
            "GET",
            "/v2/alerts",
            params={"query": query, "limit": "100", "order": "asc"},
        )
        found: list[datetime] = []
        for alert in data.get("data", []) if isinstance(data, dict) else []:
            if title.lower() not in str(alert.get("message", "")).lower():
                continue
            report: Any = alert.get("report") or {}
            created = parse_time(alert.get("createdAt"))
            if created is not None and alert.get("acknowledged") and "ackTime" in report:
                found.append(created + timedelta(milliseconds=int(report["ackTime"])))
        return min(found, default=None)
    finally:
        client.close()
