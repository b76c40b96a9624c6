"""SLA reminders and escalation: ``drillbook escalate``, safe to run from cron.

The second seed: "Set per-finding owner and SLA; escalate to engineering management when
stale." For each finding still owed work, against its SLA date:

* **before** it, the owner gets a reminder at each ``remind_before`` step (7 and 1 days by
  default; a run that starts late sends only the nearest step);
* **after** it, the owner is told first (``escalate_after.owner``), then the team's
  ``escalation_contact`` (a week late by default), then the ``security_lead`` (two
  weeks); a run that starts late sends every step already reached.

Each notice is keyed by finding, step and the due date it is about, and written to the
sent-notice ledger (:class:`~drillbook.domain.finding.tracking.SentNotice`) right after
the person's digest went out; a notice in the ledger is never sent again, so running
twice a day, or every hour, tells each person once. Everything one person should hear in
a run goes in one digest. Moving a due date re-arms the reminders for the new date.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from drillbook import clock
from drillbook.domain.finding import lifecycle
from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.tracking import SentNotice
from drillbook.domain.program.models import Program
from drillbook.notify.digest import Digest, DigestLine, DigestNotifier, Recipient
from drillbook.notify.settings import NotifySettings

if TYPE_CHECKING:
    from drillbook.storage.engine import Store

WHY = {
    "owner": "You own this finding.",
    "escalation_contact": "Escalated to you: you are the escalation contact of team {team}.",
    "security_lead": "Escalated to you as security lead: still open {late} day(s) past its SLA.",
}


@dataclass(frozen=True)
class PlannedNotice:
    finding_id: str
    notice: str
    recipient: Recipient
    line: DigestLine


@dataclass
class EscalationReport:
    today: date
    dry_run: bool = False
    sent: dict[str, list[str]] = field(default_factory=dict)
    unreachable: list[str] = field(default_factory=list)
    already_sent: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "today": self.today,
            "dry_run": self.dry_run,
            "sent": self.sent,
            "unreachable": self.unreachable,
            "already_sent": self.already_sent,
        }


def resolve(program: Program, who: str | None) -> Recipient | None:
    """A person id, a team id (its lead), or an e-mail address -> someone to tell."""
    if not who or not who.strip():
        return None
    person = program.person(who)
    if person is not None:
        return Recipient(person.id, person.name or person.id, person.email)
    team = program.team(who)
    if team is not None and team.lead:
        return resolve(program, team.lead)
    if "@" in who:
        return Recipient(who, who, who)
    return Recipient(who, who, None)


def _line(finding: Finding, notice: str, why: str) -> DigestLine:
    assert finding.due_date is not None
    return DigestLine(
        finding.id, finding.severity, finding.description, finding.due_date, notice, why
    )


def plan_notices(
    findings: list[Finding], program: Program, settings: NotifySettings, today: date
) -> tuple[list[PlannedNotice], list[str]]:
    """The notices due today (sent or not), and who could not be found for which."""
    planned: list[PlannedNotice] = []
    missing: list[str] = []
    steps = settings.escalation_days()
    for finding in findings:
        if not finding.is_active or finding.due_date is None:
            continue
        due = finding.due_date
        left = (due - today).days
        wanted: list[tuple[str, str, Recipient | None]] = []
        if left >= 0:
            reached = [d for d in settings.reminder_days() if left <= d]
            if reached:
                wanted.append(
                    (f"remind-{min(reached)}d@{due}", "owner", resolve(program, finding.owner))
                )
        else:
            late = -left
            team = program.team(finding.team) if finding.team else None
            contact = team.escalation_contact if team else None
            for step, who in (
                ("owner", finding.owner),
                ("escalation_contact", contact),
                ("security_lead", settings.security_lead),
            ):
                if late >= steps[step]:
                    wanted.append((f"overdue-{step}@{due}", step, resolve(program, who)))
        for notice, step, recipient in wanted:
            if recipient is None:
                missing.append(f"{finding.id} {notice}: no {step.replace('_', ' ')} to tell")
                continue
            why = WHY[step].format(team=finding.team, late=max(-left, 0))
            planned.append(
                PlannedNotice(finding.id, notice, recipient, _line(finding, notice, why))
            )
    return planned, missing


# what plan_notices reads of a finding (its line, its recipients, ``is_active``)
CANDIDATE_COLUMNS = (
    "id",
    "number",
    "severity",
    "status",
    "risk_expires",
    "due_date",
    "owner",
    "team",
    "description",
)


def notice_candidates(session: Session, settings: NotifySettings, today: date) -> list[Finding]:
    """The findings :func:`plan_notices` can plan a notice for, in number order: owed work
    with a due date no later than the earliest reminder step ahead (later ones have
    nothing due yet), as plain rows of the columns the notices read. Loading every open
    finding as an object with its history took 5 s at 100,000 findings, for a cron job
    that may run every hour."""
    from drillbook.domain.finding.rows import plain_findings
    from drillbook.domain.finding.service import _active_clause

    ahead = max(settings.reminder_days(), default=0)
    return plain_findings(
        session,
        CANDIDATE_COLUMNS,
        _active_clause(today),
        Finding.due_date.is_not(None),
        Finding.due_date <= today + timedelta(days=ahead),
    )


def run_escalation(
    store: Store,
    program: Program,
    settings: NotifySettings,
    notifier: DigestNotifier,
    *,
    dry_run: bool = False,
) -> EscalationReport:
    today = clock.today()
    report = EscalationReport(today, dry_run=dry_run)
    with store.session() as session:
        if not dry_run:
            lifecycle.reopen_expired_risks(session, today)
        findings = notice_candidates(session, settings, today)
        planned, report.unreachable = plan_notices(findings, program, settings, today)
        ledger = {
            (n.finding_id, n.notice, n.recipient)
            for n in session.scalars(
                select(SentNotice).where(SentNotice.finding_id.in_({p.finding_id for p in planned}))
            )
        }
    pending: dict[str, list[PlannedNotice]] = defaultdict(list)
    recipients: dict[str, Recipient] = {}
    for notice in planned:
        if (notice.finding_id, notice.notice, notice.recipient.key) in ledger:
            report.already_sent += 1
            continue
        pending[notice.recipient.key].append(notice)
        recipients[notice.recipient.key] = notice.recipient
    for key, notices in sorted(pending.items()):
        recipient = recipients[key]
        if not notifier.can_reach(recipient):
            report.unreachable.append(
                f"{recipient.key}: no way to reach them by {notifier.name} "
                f"({len(notices)} notice(s); add an email to people: in drillbook.yaml)"
            )
            continue
        labels = [f"{n.finding_id} {n.notice}" for n in notices]
        if dry_run:
            report.sent[key] = labels
            continue
        notifier.send_digest(
            Digest(recipient, program.organisation, today, [n.line for n in notices])
        )
        # the digest is out: record it at once, so a failure for the next person does
        # not make this one hear it again
        with store.session() as session:
            now = clock.now()
            for n in notices:
                session.add(
                    SentNotice(
                        finding_id=n.finding_id,
                        notice=n.notice,
                        recipient=key,
                        channel=notifier.name,
                        due_date=n.line.due,
                        sent_at=now,
                    )
                )
        report.sent[key] = labels
    return report
