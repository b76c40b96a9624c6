"""Backlog hygiene: the findings the seed says rot first.

"Findings with no owner", "fixes that never ship" and "remediation drifts past the SLA"
are the second seed's failure modes. A finding still owed work is a problem when nobody
owns it, when nobody has said when it will be fixed, or when the date they gave is later
than the SLA allows. ``finding list --problems`` prints these.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from drillbook.domain.finding.models import Finding

NO_OWNER = "no-owner"
NO_TARGET = "no-target-date"
PAST_SLA = "target-past-sla"


@dataclass(frozen=True)
class BacklogProblem:
    finding_id: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.finding_id, "code": self.code, "message": self.message}


def finding_problems(finding: Finding) -> list[BacklogProblem]:
    """What is wrong with one finding's plan to close (nothing once it is closed)."""
    if not finding.is_active:
        return []
    found = []
    if not (finding.owner or "").strip():
        found.append(BacklogProblem(finding.id, NO_OWNER, "no owner: nobody will fix it"))
    if finding.target_date is None:
        found.append(
            BacklogProblem(
                finding.id, NO_TARGET, f"no target date (the SLA says by {finding.due_date})"
            )
        )
    elif finding.due_date is not None and finding.target_date > finding.due_date:
        late = (finding.target_date - finding.due_date).days
        found.append(
            BacklogProblem(
                finding.id,
                PAST_SLA,
                f"target date {finding.target_date} is {late} day{'s' if late != 1 else ''} "
                f"past the {finding.severity} SLA ({finding.due_date})",
            )
        )
    return found


def backlog_problems(findings: Iterable[Finding]) -> list[BacklogProblem]:
    return [problem for finding in findings for problem in finding_problems(finding)]
