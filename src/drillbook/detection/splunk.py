"""Splunk: alerts (Enterprise Security notables) and events through the REST search API.

Every search is a ``oneshot`` job (``POST /services/search/jobs``, ``exec_mode=oneshot``,
``output_mode=json``), bounded by ``earliest_time``/``latest_time``. Auth is a Splunk
authentication token sent as ``Authorization: Bearer``. Sigma converts to SPL with
pySigma's Splunk backend (``pip install 'drillbook[splunk]'``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from drillbook.detection.base import Alert, RuleRef, Window, normalise_severity
from drillbook.detection.config import SplunkConfig, secret
from drillbook.detection.siem import ApiClient, SiemBackend, convert_with
from drillbook.errors import AdapterError
from drillbook.telemetry.readers.fields import parse_time


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class SplunkBackend(SiemBackend):
    name = "splunk"
    section_keys = "url, token_env"

    def __init__(
        self,
        config: SplunkConfig,
        *,
        rules_root: Path | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(config, rules_root=rules_root)
        self.client = ApiClient(
            "splunk",
            config.url,
            headers=self._auth,
            secret_hint=f"the token in ${config.token_env} is valid and may run searches",
            timeout=config.timeout_seconds,
            verify=config.verify_tls,
            transport=transport,
        )

    def _auth(self) -> dict[str, str]:
        token = self.client.remember_secret(secret("splunk", self.config.token_env))
        return {"Authorization": f"Bearer {token}"}

    def search(self, call: str, spl: str, window: Window) -> list[dict[str, Any]]:
        data = self.client.json(
            call,
            "POST",
            "/services/search/jobs",
            data={
                "search": spl if spl.lstrip().startswith(("search ", "|")) else f"search {spl}",
                "exec_mode": "oneshot",
                "output_mode": "json",
                "earliest_time": window.start.isoformat(),
                "latest_time": window.end.isoformat(),
                "count": "0",
            },
        )
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, list):
            raise AdapterError(
                "splunk",
                call,
                "the answer has no 'results' list",
                "that the url is the management port (8089)",
            )
        return [r for r in results if isinstance(r, dict)]

    def _scope(self, window: Window) -> str:
        return f" host={_quoted(window.host)}" if window.host else ""

    def find_alerts(self, rule: RuleRef, window: Window) -> list[Alert]:
        names = [f"{self.config.rule_field}={_quoted(rule.title)}"] if rule.title else []
        if rule.rule_id:
            names.append(f"rule_id={_quoted(rule.rule_id)}")
        if not names:
            return []
        spl = f"search {self.config.alerts_search} ({' OR '.join(names)})"
        alerts = []
        for row in self.search("search alerts", spl, window):
            moment = parse_time(row.get("_time"))
            if moment is None:
                continue
            alerts.append(
                Alert(
                    time=moment,
                    severity=normalise_severity(row.get(self.config.severity_field)),
                    rule=str(row.get(self.config.rule_field) or rule.title),
                    alert_id=row.get("event_id") or row.get("_cd"),
                    status=row.get("status_label") or row.get("status"),
                    acknowledged_at=parse_time(row.get(self.config.ack_time_field)),
                )
            )
        return alerts

    def count_events(self, window: Window) -> int:
        rows = self.search(
            "count events",
            f"search {self.config.events_search}{self._scope(window)} | stats count",
            window,
        )
        return int(rows[0].get("count", 0)) if rows else 0

    def count_matching(self, query: str, window: Window) -> int | None:
        rows = self.search(
            "run the rule's query",
            f"search {self.config.events_search}{self._scope(window)} {query} | stats count",
            window,
        )
        return int(rows[0].get("count", 0)) if rows else 0

    def convert(self, rule_text: str) -> str:
        return convert_with(
            "splunk", "sigma.backends.splunk", "SplunkBackend", rule_text, self.pipeline()
        )
