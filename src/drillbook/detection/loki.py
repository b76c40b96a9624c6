"""Grafana Loki: LogQL over ``/loki/api/v1/query_range``.

Loki keeps no history of fired alerts, so a rule *fires* when its LogQL (converted
from Sigma by pySigma's Loki backend) returns log lines in the window; severity is the
rule's ``level``. Events in the window are counted with an instant
``sum(count_over_time(<selector>[window]))``. Multi-tenant Loki takes ``org_id`` as
``X-Scope-OrgID``; auth is a bearer token or basic auth.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import Any

import httpx

from drillbook.detection.base import Alert, RuleRef, Window
from drillbook.detection.config import LokiConfig, secret
from drillbook.detection.siem import ApiClient, SiemBackend, convert_with
from drillbook.errors import AdapterError
from drillbook.telemetry.readers.fields import parse_time


def _ns(window_time: Any) -> str:
    return str(int(window_time.timestamp() * 1_000_000_000))


class LokiBackend(SiemBackend):
    name = "loki"
    section_keys = "url, selector"

    def __init__(
        self,
        config: LokiConfig,
        *,
        rules_root: Path | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(config, rules_root=rules_root)
        env = config.token_env or config.password_env
        self.client = ApiClient(
            "loki",
            config.url,
            headers=self._auth,
            secret_hint=f"the credential in ${env} and org_id" if env else "org_id",
            timeout=config.timeout_seconds,
            verify=config.verify_tls,
            transport=transport,
        )

    def _auth(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.config.org_id:
            headers["X-Scope-OrgID"] = self.config.org_id
        if self.config.token_env:
            token = self.client.remember_secret(secret("loki", self.config.token_env))
            headers["Authorization"] = f"Bearer {token}"
        elif self.config.username:
            password = self.client.remember_secret(
                secret("loki", self.config.password_env, "password")
            )
            pair = base64.b64encode(f"{self.config.username}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {self.client.remember_secret(pair)}"
        return headers

    def _data(self, call: str, path: str, params: dict[str, str]) -> dict[str, Any]:
        answer = self.client.json(call, "GET", path, params=params)
        if not isinstance(answer, dict) or answer.get("status") != "success":
            raise AdapterError(
                "loki",
                call,
                f"status {answer.get('status') if isinstance(answer, dict) else '?'}",
                "the LogQL query",
            )
        data = answer.get("data")
        return data if isinstance(data, dict) else {}

    def find_alerts(self, rule: RuleRef, window: Window) -> list[Alert]:
        query = self.native_query(rule)
        if not query:
            raise AdapterError(
                "loki",
                "convert",
                f"{rule.label}: no LogQL for this rule",
                "give the expected detection a query, or a Sigma rule",
            )
        data = self._data(
            "query_range",
            "/loki/api/v1/query_range",
            {
                "query": query,
                "start": _ns(window.start),
                "end": _ns(window.end),
                "limit": "100",
                "direction": "forward",
            },
        )
        alerts = []
        for stream in data.get("result", []):
            for value in stream.get("values", []):
                moment = parse_time(int(value[0]))
                if moment is not None:
                    alerts.append(
                        Alert(
                            time=moment,
                            severity=rule.level,
                            rule=rule.title or rule.label,
                            event={"line": value[1], **stream.get("stream", {})},
                        )
                    )
        return alerts

    def count_events(self, window: Window) -> int:
        seconds = max(1, math.ceil((window.end - window.start).total_seconds()))
        data = self._data(
            "count events",
            "/loki/api/v1/query",
            {
                "query": f"sum(count_over_time({self.config.selector}[{seconds}s]))",
                "time": _ns(window.end),
            },
        )
        result = data.get("result") or []
        return int(float(result[0]["value"][1])) if result else 0

    def native_query(self, rule: RuleRef) -> str | None:
        query = super().native_query(rule)
        default = '{job=~".+"}'
        if query and query.startswith(default) and self.config.selector != default:
            query = self.config.selector + query[len(default) :]
        return query

    def convert(self, rule_text: str) -> str:
        pipeline = self.pipeline()
        return convert_with("loki", "sigma.backends.loki", "LogQLBackend", rule_text, pipeline)
