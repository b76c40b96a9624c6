"""Elastic Security / OpenSearch: the alerts index and the query DSL.

Fired detections are documents in ``.alerts-security.alerts-*`` (``POST
/<index>/_search``) with ``kibana.alert.rule.name``, ``kibana.alert.rule.rule_id``,
``kibana.alert.severity`` and ``kibana.alert.workflow_status`` (``acknowledged`` once a
human took it, at ``kibana.alert.workflow_status_updated_at``). Events are counted with
``POST /<index>/_count``; Sigma converts to Lucene (``query_string``) with pySigma's
Elasticsearch backend. Auth: ``Authorization: ApiKey`` or basic.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx

from drillbook.detection.base import Alert, RuleRef, Window, normalise_severity
from drillbook.detection.config import ElasticConfig, secret
from drillbook.detection.siem import ApiClient, SiemBackend, convert_with, dig
from drillbook.errors import AdapterError
from drillbook.telemetry.readers.fields import parse_time


class ElasticBackend(SiemBackend):
    name = "elastic"
    section_keys = "url, api_key_env"

    def __init__(
        self,
        config: ElasticConfig,
        *,
        rules_root: Path | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(config, rules_root=rules_root)
        env = config.api_key_env if not config.username else config.password_env
        self.client = ApiClient(
            "elastic",
            config.url,
            headers=self._auth,
            secret_hint=f"the credentials in ${env} are valid and may read the indices",
            timeout=config.timeout_seconds,
            verify=config.verify_tls,
            transport=transport,
        )

    def _auth(self) -> dict[str, str]:
        if self.config.username:
            password = self.client.remember_secret(
                secret("elastic", self.config.password_env, "password")
            )
            pair = f"{self.config.username}:{password}".encode()
            token = self.client.remember_secret(base64.b64encode(pair).decode())
            return {"Authorization": f"Basic {token}"}
        key = self.client.remember_secret(secret("elastic", self.config.api_key_env, "API key"))
        return {"Authorization": f"ApiKey {key}"}

    def _range(self, window: Window) -> dict[str, Any]:
        return {
            "range": {
                self.config.time_field: {
                    "gte": window.start.isoformat(),
                    "lte": window.end.isoformat(),
                }
            }
        }

    def _scope(self, window: Window) -> list[dict[str, Any]]:
        filters = [self._range(window)]
        if window.host:
            filters.append({"term": {"host.name": window.host}})
        return filters

    def find_alerts(self, rule: RuleRef, window: Window) -> list[Alert]:
        should: list[dict[str, Any]] = []
        if rule.title:
            should.append({"term": {"kibana.alert.rule.name": rule.title}})
        if rule.rule_id:
            should.append({"term": {"kibana.alert.rule.rule_id": rule.rule_id}})
        if not should:
            return []
        body = {
            "size": 100,
            "sort": [{"@timestamp": "asc"}],
            "query": {
                "bool": {
                    "filter": [
                        {
                            "range": {
                                "@timestamp": {
                                    "gte": window.start.isoformat(),
                                    "lte": window.end.isoformat(),
                                }
                            }
                        },
                        {"bool": {"should": should, "minimum_should_match": 1}},
                    ]
                }
            },
        }
        data = self.client.json(
            "search alerts", "POST", f"/{self.config.alerts_index}/_search", json=body
        )
        hits = dig(data, "hits.hits")
        if not isinstance(hits, list):
            raise AdapterError(
                "elastic",
                "search alerts",
                "the answer has no hits.hits",
                "that alerts_index names the security alerts index",
            )
        alerts = []
        for hit in hits:
            source = hit.get("_source", {}) if isinstance(hit, dict) else {}
            moment = parse_time(dig(source, "@timestamp"))
            if moment is None:
                continue
            status = dig(source, "kibana.alert.workflow_status")
            acked = None
            if status in ("acknowledged", "closed"):
                acked = parse_time(dig(source, "kibana.alert.workflow_status_updated_at"))
            alerts.append(
                Alert(
                    time=moment,
                    severity=normalise_severity(dig(source, "kibana.alert.severity")),
                    rule=str(dig(source, "kibana.alert.rule.name") or rule.title),
                    alert_id=hit.get("_id"),
                    status=status,
                    acknowledged_at=acked,
                )
            )
        return alerts

    def _count(self, call: str, filters: list[dict[str, Any]]) -> int:
        data = self.client.json(
            call,
            "POST",
            f"/{self.config.events_index}/_count",
            json={"query": {"bool": {"filter": filters}}},
        )
        count = data.get("count") if isinstance(data, dict) else None
        if not isinstance(count, int):
            raise AdapterError(
                "elastic",
                call,
                "the answer has no count",
                "that events_index names the events index",
            )
        return count

    def count_events(self, window: Window) -> int:
        return self._count("count events", self._scope(window))

    def count_matching(self, query: str, window: Window) -> int | None:
        return self._count(
            "run the rule's query",
            [*self._scope(window), {"query_string": {"query": query}}],
        )

    def convert(self, rule_text: str) -> str:
        return convert_with(
            "elastic", "sigma.backends.elasticsearch", "LuceneBackend", rule_text, self.pipeline()
        )
