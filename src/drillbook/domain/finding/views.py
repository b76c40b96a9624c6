"""Typed read models of findings for the web API (same field names as ``--json``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from pydantic import BaseModel

from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.service import finding_summary
from drillbook.domain.finding.tracking import TrackerLink, link_view


class TrackerLinkView(BaseModel):
    """The finding's issue in a tracker; ``url`` only when it is http(s)."""

    tracker: str
    key: str
    url: str | None


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
    trackers: list[TrackerLinkView] = []


def finding_view(finding: Finding, links: Iterable[TrackerLink] = ()) -> FindingView:
    data = finding_summary(finding)
    data.pop("history", None)
    data["trackers"] = [link_view(link) for link in links]
    return FindingView.model_validate(data)
