"""The seed's drill-results scorecard (``drill-results/<date>-<name>.yaml``), verbatim.

The seed's keys come first and in the seed's order; drillbook's own additions
(``drill_run``, ``techniques_not_run``, ``techniques_without_telemetry``,
``containment``, ``techniques_leaving_processes``, ``network_bytes_sent``, a failure's
``finding``) are optional
keys written after them and left out when empty, so the seed's example loads and dumps
back unchanged.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from drillbook.documents.validation import validate
from drillbook.documents.yaml_io import dump_text, load_mapping


class Percentiles(BaseModel):
    model_config = ConfigDict(extra="forbid")

    p50: int | float | None = None
    p95: int | float | None = None


class Failure(BaseModel):
    model_config = ConfigDict(extra="forbid")

    technique: str
    expected_rule: str
    fired: bool
    fired_severity: str | None = None
    expected_severity: str | None = None
    investigation: str | None = None
    action: str | None = None
    # extensions
    verdict: str | None = Field(default=None, description="fired, not_fired or no_events.")
    finding: str | None = Field(default=None, description="The finding opened or updated.")


class NotChecked(BaseModel):
    model_config = ConfigDict(extra="forbid")

    technique: str
    status: str
    reason: str | None = None


class Scorecard(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: dt.date
    techniques_attempted: int = Field(ge=0)
    techniques_with_expected_detection: int = Field(ge=0)
    detections_fired: int = Field(ge=0)
    detections_with_correct_severity: int = Field(ge=0)
    mean_time_to_alert_seconds: Percentiles = Field(default_factory=Percentiles)
    mean_time_to_human_acknowledgement_seconds: Percentiles = Field(default_factory=Percentiles)
    failures: list[Failure] = Field(default_factory=list)
    # extensions
    drill_run: str | None = None
    plan: str | None = None
    techniques_not_run: list[NotChecked] = Field(default_factory=list)
    techniques_without_telemetry: list[str] = Field(default_factory=list)
    containment: str | None = Field(
        default=None, description="How the techniques were contained (sandbox or none)."
    )
    techniques_leaving_processes: list[str] = Field(default_factory=list)
    network_bytes_sent: dict[str, int] = Field(
        default_factory=dict,
        description="Bytes each technique sent, where network was allowed with a volume cap.",
    )

    def to_document(self) -> dict[str, Any]:
        """Plain data in the seed's key order, empty extensions left out."""
        data = self.model_dump(mode="python", exclude_none=False)
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key in {"drill_run", "plan", "containment"} and value is None:
                continue
            if (
                key
                in {
                    "techniques_not_run",
                    "techniques_without_telemetry",
                    "techniques_leaving_processes",
                    "network_bytes_sent",
                }
                and not value
            ):
                continue
            if key == "failures":
                value = [_failure_document(f) for f in value]
            out[key] = value
        return out

    def dump(self) -> str:
        return dump_text(self.to_document())


def _failure_document(failure: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in failure.items() if v is not None}


def load_scorecard(path: Path) -> Scorecard:
    """Read a scorecard file; problems come back located (``path:line:col``)."""
    return validate(Scorecard, load_mapping(path, "scorecard"), path)


def file_name(date: dt.date, name: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    while "--" in slug:
        slug = slug.replace("--", "-")
    return f"{date.isoformat()}-{slug or 'drill'}.yaml"
