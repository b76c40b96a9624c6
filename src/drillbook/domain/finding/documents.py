"""The seed's findings document (``findings/<scenario>-run-<date>.yaml``): schema, and
conversion from and to stored findings.

The seed's keys (``scenario``, ``date``, ``participants``, ``findings`` with ``id``,
``severity``, ``description``, ``proposed_remediation``, ``owner``, ``target_date``, and
``next_actions``) are read and written verbatim. drillbook's own keys (status, change
type, capability, ...) are optional extras, written only when they carry something the
user decided, so a document that came in without them goes out without them.
"""

from __future__ import annotations

import datetime as dt
from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from drillbook.domain.finding.enums import (
    Capability,
    ChangeType,
    FindingStatus,
    Severity,
)
from drillbook.domain.finding.models import Finding

FindingId = Annotated[str, Field(pattern=r"^F-\d{1,9}$", description="F-001, F-002, ...")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HistoryEntry(_Strict):
    """One status change in a finding's history (export only: the store keeps the record,
    so import reads it as "said" and does not compare or replay it)."""

    at: dt.datetime
    by: str | None = None
    from_: FindingStatus | None = Field(default=None, alias="from")
    to: FindingStatus
    why: str | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class FindingEntry(_Strict):
    # the seed's keys
    id: FindingId
    severity: Severity
    description: str = Field(min_length=1)
    proposed_remediation: str | None = None
    owner: str | None = None
    target_date: date | None = None
    # extensions
    status: FindingStatus | None = None
    risk_expires: date | None = None
    change_type: ChangeType | None = None
    capability: Capability | None = None
    fix_location: str | None = None
    team: str | None = None
    history: list[HistoryEntry] = Field(default_factory=list)


class FindingsDocument(_Strict):
    scenario: str = Field(min_length=1)
    date: dt.date
    participants: list[str] = Field(default_factory=list)
    findings: list[FindingEntry] = Field(default_factory=list)
    next_actions: list[str] = Field(default_factory=list)
    # extensions
    team: str | None = None
    next_tabletop: dt.date | None = None


def document_path(scenario_id: str, run_date: date) -> str:
    """Where the seed keeps the document, relative to the library root."""
    return f"findings/{scenario_id}-run-{run_date.isoformat()}.yaml"


def finding_entry(finding: Finding) -> dict[str, Any]:
    """One finding in the document's shape: seed keys first, set extras after."""
    entry: dict[str, Any] = {
        "id": finding.id,
        "severity": finding.severity,
        "description": finding.description,
    }
    for key in ("proposed_remediation", "owner", "target_date"):
        value = getattr(finding, key)
        if value is not None:
            entry[key] = value
    if finding.status != FindingStatus.OPEN:
        entry["status"] = finding.status
        if finding.risk_expires is not None:
            entry["risk_expires"] = finding.risk_expires
    inferred = set(finding.inferred)
    for key in ("change_type", "capability"):
        value = getattr(finding, key)
        if value is not None and key not in inferred:
            entry[key] = value
    for key in ("fix_location", "team"):
        value = getattr(finding, key)
        if key == "team" and finding.extra.get("_team_from_document"):
            continue
        if value is not None:
            entry[key] = value
    changes = finding.status_changes
    if len(changes) > 1:  # more than "opened": who moved it, when, and why
        entry["history"] = [
            {
                "at": e.at,
                **({"by": e.author} if e.author else {}),
                **({"from": e.from_status} if e.from_status else {}),
                "to": e.to_status,
                **({"why": e.text} if e.text else {}),
            }
            for e in changes
        ]
    return entry


def entry_differences(finding: Finding, entry: FindingEntry) -> list[str]:
    """Fields where a stored finding and a document entry disagree (import conflicts).
    Extension keys absent from the entry are not compared: absent means "not said"."""
    differences = []
    given = entry.model_dump(exclude_unset=True)
    for key, value in given.items():
        if key in ("id", "history"):
            continue
        stored = getattr(finding, key)
        wanted = (
            str(value)
            if key in ("severity", "status", "change_type", "capability") and value is not None
            else value
        )
        if stored != wanted:
            differences.append(f"{key}: stored {_shown(stored)}, file {_shown(wanted)}")
    return differences


def _shown(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)
