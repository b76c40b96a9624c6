"""Typed read models of findings for the web API (same field names as ``--json``)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel

from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.service import finding_summary


class FindingView(BaseModel):
    id: str
    severity: str
    status: str
    description: str
    proposed_remediation: str | None
    owner: str | None
    team: str | None
    target_date: date | None
    due_date: date | None
    overdue: bool
    change_type: str | None
    capability: str | None
    inferred: list[str]
    fix_location: str | None
    source: str
    source_ref: str | None
    exercise_id: int | None
    rule: str | None
    technique: str | None
    risk_expires: date | None
    created_at: datetime
    closed_at: datetime | None


def finding_view(finding: Finding) -> FindingView:
    data = finding_summary(finding)
    data.pop("history", None)
    return FindingView.model_validate(data)
