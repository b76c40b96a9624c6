"""The ``detection:`` section of ``drillbook.yaml``.

Secrets never appear in the file: each backend names the environment variable that
holds its token (``token_env: SPLUNK_TOKEN``), read only when a call is made, and never
put into a message::

    detection:
      backend: splunk            # local (default), splunk, elastic, sentinel, loki
      rules_dir: detections      # where expected_detection sigma_rule paths start
      ingestion_delay: 2m        # how long to keep polling after a technique ends
      poll_interval: 10s
      splunk: {url: https://splunk.example:8089, token_env: SPLUNK_TOKEN}
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from drillbook.documents.durations import DurationText, parse_duration
from drillbook.documents.validation import validate
from drillbook.documents.yaml_io import load_file
from drillbook.errors import ConfigError, LibraryError, Location


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HttpBackendConfig(_Strict):
    url: str = Field(description="Base URL of the API.")
    token_env: str | None = Field(default=None, description="Env var holding a bearer token.")
    timeout_seconds: float = Field(default=30.0, gt=0)
    verify_tls: bool = True


class SplunkConfig(HttpBackendConfig):
    token_env: str | None = "SPLUNK_TOKEN"
    pipelines: list[str] | None = Field(
        default=None,
        description="pySigma pipelines (names or YAML files) applied when converting rules.",
    )
    alerts_search: str = Field(
        default="index=notable",
        description="Where fired detections land (Enterprise Security notables by default).",
    )
    events_search: str = Field(default="index=*", description="Where the drill's raw events are.")
    rule_field: str = Field(default="search_name", description="Alert field naming the rule.")
    severity_field: str = "urgency"
    ack_time_field: str = Field(
        default="review_time", description="Alert field holding the acknowledgement time."
    )


class ElasticConfig(HttpBackendConfig):
    token_env: str | None = None
    api_key_env: str | None = Field(default="ELASTIC_API_KEY", description="ApiKey auth.")
    username: str | None = None
    password_env: str | None = None
    alerts_index: str = ".alerts-security.alerts-*"
    events_index: str = "logs-*"
    time_field: str = "@timestamp"
    pipelines: list[str] | None = Field(
        default=None,
        description="pySigma pipelines (names or YAML files) applied when converting rules.",
    )


class SentinelConfig(_Strict):
    workspace_id: str
    url: str = "https://api.loganalytics.io"
    token_env: str | None = Field(default="SENTINEL_TOKEN", description="An access token.")
    tenant_id: str | None = Field(default=None, description="For the client-credentials flow.")
    client_id: str | None = None
    client_secret_env: str | None = None
    login_url: str = "https://login.microsoftonline.com"
    events_table: str = Field(default="Syslog", description="Table the drill's events land in.")
    timeout_seconds: float = Field(default=30.0, gt=0)
    pipelines: list[str] | None = Field(
        default=None,
        description="pySigma pipelines (names or YAML files) applied when converting rules.",
    )


class LokiConfig(HttpBackendConfig):
    token_env: str | None = None
    username: str | None = None
    password_env: str | None = None
    org_id: str | None = Field(default=None, description="X-Scope-OrgID for multi-tenant Loki.")
    selector: str = Field(default='{job=~".+"}', description="Stream selector of drill events.")
    pipelines: list[str] | None = Field(
        default=None,
        description="pySigma pipelines (names or YAML files) applied when converting rules.",
    )


class PagerDutyConfig(_Strict):
    url: str = "https://api.pagerduty.com"
    token_env: str = "PAGERDUTY_TOKEN"
    service_ids: list[str] = Field(default_factory=list)
    timeout_seconds: float = Field(default=30.0, gt=0)


class OpsgenieConfig(_Strict):
    url: str = "https://api.opsgenie.com"
    api_key_env: str = "OPSGENIE_API_KEY"
    timeout_seconds: float = Field(default=30.0, gt=0)


class DetectionConfig(_Strict):
    backend: str = Field(default="local", description="Backend name (entry point).")
    rules_dir: str | None = Field(default=None, description="Base of sigma_rule paths.")
    ingestion_delay: DurationText = Field(default="0s", description="Polling deadline.")
    poll_interval: DurationText = "10s"
    splunk: SplunkConfig | None = None
    elastic: ElasticConfig | None = None
    sentinel: SentinelConfig | None = None
    loki: LokiConfig | None = None
    pagerduty: PagerDutyConfig | None = None
    opsgenie: OpsgenieConfig | None = None

    def delay_seconds(self) -> float:
        return parse_duration(self.ingestion_delay).total_seconds()

    def poll_seconds(self) -> float:
        return max(0.1, parse_duration(self.poll_interval).total_seconds())


class _ProgramDetection(BaseModel):
    model_config = ConfigDict(extra="ignore")
    detection: DetectionConfig = Field(default_factory=DetectionConfig)


def load_detection_config(document: Any, path: Path | str) -> DetectionConfig:
    """Validate the ``detection:`` section of a parsed ``drillbook.yaml`` document;
    problems are located in ``path`` like every other library error."""
    if document is None:
        return DetectionConfig()
    if not isinstance(document, dict):
        raise LibraryError.single(Location.of(path), "drillbook.yaml must be a mapping")
    if document.get("detection") is None:
        return DetectionConfig()
    return validate(_ProgramDetection, document, path).detection


def library_detection_config(library_root: Path | None) -> DetectionConfig:
    """The library's detection settings (defaults when there is no library)."""
    if library_root is None:
        return DetectionConfig()
    path = library_root / "drillbook.yaml"
    if not path.is_file():
        return DetectionConfig()
    return load_detection_config(load_file(path), path)


def secret(system: str, env_name: str | None, what: str = "token") -> str:
    """A secret from the environment; the message names the variable, never a value."""
    if not env_name:
        raise ConfigError(
            f"{system}: no environment variable named for the {what} in "
            f"drillbook.yaml detection.{system}"
        )
    value = os.environ.get(env_name, "")
    if not value:
        raise ConfigError(f"{system}: the {what} is read from ${env_name}, which is not set")
    return value
