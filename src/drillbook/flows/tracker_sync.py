"""Two-way sync of the findings backlog with a team's tracker.

For each configured tracker, one pass:

1. list every issue carrying this library's marker (all pages, one listing);
2. a finding still owed work with no link gets an issue: the one already carrying its
   marker if there is one (a run that crashed after the remote create and before the
   local write left it), else a new one. Re-running therefore creates nothing twice;
3. for each linked finding, status, owner and due date are compared with the values both
   sides last agreed on (the link's ``synced_*``): only the tracker moved -> the change
   comes back, with the history line "changed in Jira by X"; only drillbook moved -> it
   is pushed; both moved differently -> a **conflict** is reported and neither side is
   touched. A status the lifecycle refuses (the tracker reopened a verified finding
   without saying why...) is reported the same way.

``dry_run`` reads the tracker and reports what would happen, writing nothing anywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.domain.finding import service
from drillbook.domain.finding.enums import FindingStatus
from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.tracking import TrackerLink
from drillbook.errors import StateError
from drillbook.trackers.base import DOING, DONE, TODO, IssueDraft, RemoteIssue, Tracker

STATE_OF = {
    FindingStatus.OPEN: TODO,
    FindingStatus.IN_PROGRESS: DOING,
    FindingStatus.RESOLVED: DONE,
    FindingStatus.VERIFIED: DONE,
    FindingStatus.RISK_ACCEPTED: DONE,
    FindingStatus.WONT_DO: DONE,
}
FINDING_FOR = {
    TODO: FindingStatus.OPEN,
    DOING: FindingStatus.IN_PROGRESS,
    DONE: FindingStatus.RESOLVED,
}

#: Called after a remote create and before the local write (tests use it to crash there).
AfterCreate = Callable[[Finding, RemoteIssue], None]


@dataclass
class SyncReport:
    tracker: str
    dry_run: bool = False
    created: list[str] = field(default_factory=list)
    adopted: list[str] = field(default_factory=list)
    pushed: list[str] = field(default_factory=list)
    pulled: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tracker": self.tracker,
            "dry_run": self.dry_run,
            "created": self.created,
            "adopted": self.adopted,
            "pushed": self.pushed,
            "pulled": self.pulled,
            "conflicts": self.conflicts,
            "notes": self.notes,
        }


def draft_for(tracker: Tracker, finding: Finding) -> IssueDraft:
    body = [
        finding.description.strip(),
        "",
        f"Severity: {finding.severity}. SLA due: {finding.due_date}.",
    ]
    if finding.proposed_remediation:
        body += ["", f"Proposed remediation: {finding.proposed_remediation.strip()}"]
    if finding.source_ref:
        body += ["", f"Source: {finding.source} {finding.source_ref}"]
    body += ["", f"Tracked by drillbook as {finding.id}."]
    title = " ".join(finding.description.split())
    return IssueDraft(
        finding_id=finding.id,
        marker=tracker.marker(finding.id),
        title=f"[{finding.id}] {title[:180]}",
        body="\n".join(body),
        severity=finding.severity,
        state=tracker.coarse(STATE_OF[FindingStatus(finding.status)]),
        owner=tracker.owner_as_seen(finding.owner),
        due=local_due(finding),
    )


def local_due(finding: Finding) -> date | None:
    """The date drillbook holds the team to: their target, else the SLA's."""
    return finding.target_date or finding.due_date


def sync_tracker(
    session: Session,
    tracker: Tracker,
    *,
    dry_run: bool = False,
    after_create: AfterCreate | None = None,
) -> SyncReport:
    report = SyncReport(tracker.name, dry_run=dry_run)
    links = {
        link.finding_id: link
        for link in session.scalars(select(TrackerLink).where(TrackerLink.tracker == tracker.name))
    }
    remote = tracker.list_marked()
    for finding in service.list_findings(session):
        link = links.get(finding.id)
        if link is None:
            issue = remote.get(tracker.marker(finding.id))
            if issue is None:
                if not finding.is_active:
                    continue
                if dry_run:
                    report.created.append(f"{finding.id} (would create)")
                    continue
                issue = tracker.create(draft_for(tracker, finding))
                if after_create is not None:
                    after_create(finding, issue)
                report.created.append(f"{finding.id} -> {issue.key}")
            else:
                report.adopted.append(f"{finding.id} -> {issue.key}")
            if dry_run:
                continue
            link = TrackerLink(
                finding_id=finding.id,
                tracker=tracker.name,
                kind=tracker.kind,
                key=issue.key,
                url=issue.url,
                remote_id=issue.remote_id,
                # the base is what the tracker holds now: where drillbook differs (an
                # adopted issue, an owner the tracker cannot hold) drillbook's side is
                # the change, and is pushed rather than overwritten
                synced_state=tracker.coarse(issue.state),
                synced_owner=issue.owner,
                synced_due=issue.due,
                synced_at=clock.now(),
            )
            session.add(link)
            session.flush()
        else:
            issue = remote.get(tracker.marker(finding.id))
            if issue is None:
                report.conflicts.append(
                    f"{finding.id}: {link.key} no longer carries the marker "
                    f"{tracker.marker(finding.id)} (deleted or relabelled?); not recreated"
                )
                continue
        _reconcile(session, tracker, finding, link, issue, report)
    return report


def _reconcile(
    session: Session,
    tracker: Tracker,
    finding: Finding,
    link: TrackerLink,
    issue: RemoteIssue,
    report: SyncReport,
) -> None:
    """Copy whichever side moved since the last agreement; report when both did."""
    who = issue.changed_by or "someone"
    where = f"changed in {tracker.display} by {who}"
    push: dict[str, Any] = {}
    agreed: dict[str, Any] = {}

    local_state = tracker.coarse(STATE_OF[FindingStatus(finding.status)])
    remote_state = tracker.coarse(issue.state)
    fields = [
        ("status", local_state, remote_state, link.synced_state),
        ("owner", finding.owner, issue.owner, link.synced_owner),
        ("due date", local_due(finding), issue.due, link.synced_due),
    ]
    for name, local, remote, base in fields:
        if local == remote:
            agreed[name] = local
            continue
        if local != base and remote != base:
            report.conflicts.append(
                f"{finding.id} {name}: drillbook has {local}, {tracker.display} "
                f"{issue.key} has {remote} (both changed since {base}); not overwritten"
            )
            continue
        if remote != base:  # only the tracker moved: bring it back
            if report.dry_run:
                report.pulled.append(f"{finding.id} {name} -> {remote} ({where}, would pull)")
                continue
            try:
                _pull(session, finding, name, remote, who, where, issue)
            except StateError as refused:
                report.conflicts.append(f"{finding.id} {name}: {where}, but {refused}")
                continue
            report.pulled.append(f"{finding.id} {name} -> {remote} ({where})")
            agreed[name] = remote
        elif name == "owner" and isinstance(local, str) and tracker.owner_as_seen(local) is None:
            report.notes.append(
                f"{finding.id} owner {local} is not sent: {tracker.display} needs its own user "
                f"id (add {local} to trackers.{tracker.name}.users)"
            )
        else:  # only drillbook moved: push it
            push[name] = local
            report.pushed.append(
                f"{finding.id} {name} -> {local}" + (" (would push)" if report.dry_run else "")
            )
    if report.dry_run:
        return
    if push:
        tracker.update(
            issue,
            state=push.get("status"),
            owner=push.get("owner"),
            due=push.get("due date"),
            set_owner="owner" in push,
            set_due="due date" in push,
        )
        agreed.update(push)
    if "status" in agreed:
        link.synced_state = agreed["status"]
    if "owner" in agreed:
        link.synced_owner = agreed["owner"]
    if "due date" in agreed:
        link.synced_due = agreed["due date"]
    link.key, link.url = issue.key, issue.url or link.url
    link.synced_at = clock.now()
    session.flush()


def _pull(
    session: Session,
    finding: Finding,
    name: str,
    value: Any,
    who: str,
    where: str,
    issue: RemoteIssue,
) -> None:
    if name == "status":
        service.set_status(
            session,
            finding,
            str(FINDING_FOR[str(value)]),
            note=where,
            source_ref=issue.url or issue.key,
            author=who,
        )
        return
    if name == "owner":
        before = finding.owner
        finding.owner = value
        service.add_note(session, finding, text=f"owner: {before} -> {value} ({where})", author=who)
        return
    before_due = finding.target_date
    finding.target_date = value
    service.add_note(
        session, finding, text=f"target_date: {before_due} -> {value} ({where})", author=who
    )


def links_for(session: Session, finding_id: str) -> list[TrackerLink]:
    """A finding's tracker issues (``finding show``, reports, the web board)."""
    return list(
        session.scalars(
            select(TrackerLink)
            .where(TrackerLink.finding_id == finding_id)
            .order_by(TrackerLink.tracker)
        )
    )
