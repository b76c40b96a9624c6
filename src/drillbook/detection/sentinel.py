"""Microsoft Sentinel: KQL through the Log Analytics query API.

``POST {url}/v1/workspaces/{workspace_id}/query`` with ``{"query": KQL, "timespan":
"start/end"}`` answers ``{"tables": [{"columns": [...], "rows": [[...]]}]}``. Fired
detections are rows of ``SecurityAlert`` (``AlertName``, ``AlertSeverity``); the time a
human took the incident is the first modification of the ``SecurityIncident`` holding
the alert. Auth: a bearer token from ``token_env``, or the client-credentials flow
(``tenant_id``, ``client_id``, ``client_secret_env``). Sigma converts to KQL with
pySigma's Kusto backend and its Sentinel ASIM pipeline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from drillbook.detection.base import Alert, RuleRef, Window, normalise_severity
from drillbook.detection.config import SentinelConfig, secret
from drillbook.detection.siem import ApiClient, SiemBackend, answer_shape
from drillbook.errors import AdapterError
from drillbook.telemetry.readers.fields import parse_time

SCOPE = "https://api.loganalytics.io/.default"


def kql_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class SentinelBackend(SiemBackend):
    name = "sentinel"
    section_keys = "workspace_id, ..."

    def __init__(
        self,
        config: SentinelConfig,
        *,
        rules_root: Path | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(config, rules_root=rules_root)
        self._token: str | None = None
        env = config.client_secret_env if config.client_id else config.token_env
        self.client = ApiClient(
            "sentinel",
            config.url,
            headers=self._auth,
            secret_hint=f"the credential in ${env} is valid and has Log Analytics Reader "
            "on the workspace",
            timeout=config.timeout_seconds,
            transport=transport,
        )
        self.login = ApiClient(
            "sentinel",
            config.login_url,
            headers=dict,
            secret_hint=f"tenant_id, client_id and ${env}",
            timeout=config.timeout_seconds,
            transport=transport,
        )

    def _auth(self) -> dict[str, str]:
        if self._token is None:
            if self.config.client_id:
                self._token = self._client_credentials()
            else:
                self._token = secret("sentinel", self.config.token_env)
            self.client.remember_secret(self._token)
        return {"Authorization": f"Bearer {self._token}"}

    def _client_credentials(self) -> str:
        client_secret = secret("sentinel", self.config.client_secret_env, "client secret")
        self.login.remember_secret(client_secret)
        data = self.login.json(
            "get a token",
            "POST",
            f"/{self.config.tenant_id}/oauth2/v2.0/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.config.client_id or "",
                "client_secret": client_secret,
                "scope": SCOPE,
            },
        )
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str):
            raise AdapterError(
                "sentinel",
                "get a token",
                "the answer has no access_token",
                "tenant_id and client_id",
            )
        return token

    def query(self, call: str, kql: str, window: Window) -> list[dict[str, Any]]:
        data = self.client.json(
            call,
            "POST",
            f"/v1/workspaces/{self.config.workspace_id}/query",
            json={"query": kql, "timespan": f"{window.start.isoformat()}/{window.end.isoformat()}"},
        )
        tables = data.get("tables") if isinstance(data, dict) else None
        if not isinstance(tables, list) or not tables:
            raise AdapterError(
                "sentinel", call, "the answer has no tables", "workspace_id and the query"
            )
        with answer_shape("sentinel", call):
            table = tables[0]
            names = [c.get("name") for c in table.get("columns", [])]
            return [dict(zip(names, row, strict=False)) for row in table.get("rows", [])]

    def find_alerts(self, rule: RuleRef, window: Window) -> list[Alert]:
        if not rule.title:
            return []
        kql = (
            f"SecurityAlert | where AlertName == {kql_string(rule.title)}"
            " | project TimeGenerated, AlertName, AlertSeverity, Status, SystemAlertId"
            " | join kind=leftouter (SecurityIncident"
            " | mv-expand AlertId = AlertIds to typeof(string)"
            " | summarize AckTime = min(FirstModifiedTime) by AlertId)"
            " on $left.SystemAlertId == $right.AlertId"
        )
        rows = self.query("query SecurityAlert", kql, window)
        with answer_shape("sentinel", "query SecurityAlert"):
            return self._alerts(rows, rule)

    def _alerts(self, rows: list[dict[str, Any]], rule: RuleRef) -> list[Alert]:
        alerts = []
        for row in rows:
            moment = parse_time(row.get("TimeGenerated"))
            if moment is None:
                continue
            alerts.append(
                Alert(
                    time=moment,
                    severity=normalise_severity(row.get("AlertSeverity")),
                    rule=str(row.get("AlertName") or rule.title),
                    alert_id=row.get("SystemAlertId"),
                    status=row.get("Status"),
                    acknowledged_at=parse_time(row.get("AckTime")),
                )
            )
        return alerts

    def count_events(self, window: Window) -> int:
        where = f" | where Computer == {kql_string(window.host)}" if window.host else ""
        rows = self.query("count events", f"{self.config.events_table}{where} | count", window)
        with answer_shape("sentinel", "count events"):
            return int(rows[0].get("Count", 0)) if rows else 0

    def count_matching(self, query: str, window: Window) -> int | None:
        rows = self.query("run the rule's query", f"{query}\n| count", window)
        with answer_shape("sentinel", "run the rule's query"):
            return int(rows[0].get("Count", 0)) if rows else 0

    def convert(self, rule_text: str) -> str:
        from drillbook.detection.siem import convert_with

        try:
            pipeline = self.pipeline()
        except ImportError:
            raise AdapterError(
                "sentinel",
                "convert",
                "pySigma-backend-kusto is not installed",
                "pip install 'drillbook[sentinel]'",
            ) from None
        return convert_with("sentinel", "sigma.backends.kusto", "KustoBackend", rule_text, pipeline)
