"""Digests: one message per person per run, listing every finding they are told about.

A reminder or escalation names the finding, its severity, its due date and why the
person is hearing about it (their own finding, their team's, the security lead's view).
:class:`DigestNotifier` is the interface the e-mail, Teams and Slack-compatible webhook
adapters implement; they are found by name through the ``drillbook.notifiers`` entry
points.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from drillbook.errors import ConfigError

if TYPE_CHECKING:
    from drillbook.notify.settings import NotifySettings


@dataclass(frozen=True)
class DigestLine:
    finding_id: str
    severity: str
    description: str
    due: date
    notice: str
    why: str


@dataclass(frozen=True)
class Recipient:
    """Someone to tell: a person id from drillbook.yaml (or an address), with an e-mail
    address when one is known."""

    key: str
    name: str
    email: str | None = None


@dataclass
class Digest:
    recipient: Recipient
    organisation: str
    today: date
    lines: list[DigestLine] = field(default_factory=list)

    @property
    def subject(self) -> str:
        overdue = sum(1 for line in self.lines if line.due < self.today)
        soon = len(self.lines) - overdue
        parts = []
        if overdue:
            parts.append(f"{overdue} overdue")
        if soon:
            parts.append(f"{soon} due soon")
        return f"[drillbook] {self.organisation}: findings {' and '.join(parts)}"

    def text(self) -> str:
        lines = [
            f"Hello {self.recipient.name},",
            "",
            f"{len(self.lines)} finding(s) from {self.organisation}'s incident rehearsals "
            f"need attention (as of {self.today.isoformat()}):",
            "",
        ]
        for line in sorted(self.lines, key=lambda x: (x.due, x.finding_id)):
            days = (line.due - self.today).days
            when = f"due in {days} day(s)" if days >= 0 else f"{-days} day(s) OVERDUE"
            summary = " ".join(line.description.split())[:120]
            lines.append(
                f"- {line.finding_id} [{line.severity}] {when} (due {line.due.isoformat()}): "
                f"{summary}"
            )
            lines.append(f"  {line.why}")
        lines += ["", "See them with: drillbook finding list --overdue", ""]
        return "\n".join(lines)


class DigestNotifier(ABC):
    name: str = "notifier"

    @classmethod
    def from_settings(cls, settings: NotifySettings) -> DigestNotifier:
        """Build from ``notify:`` (the adapters override this)."""
        raise ConfigError(f"notifier {cls.name} cannot be configured from drillbook.yaml")

    @abstractmethod
    def send_digest(self, digest: Digest) -> None:
        """Deliver ``digest``; raise AdapterError (naming what to check) when it cannot."""

    def can_reach(self, recipient: Recipient) -> bool:
        """Whether this channel has a way to reach ``recipient`` (e-mail needs an address)."""
        return True


def secret_url(variable: str, where: str) -> str:
    """A webhook URL from the environment variable ``variable`` (never from git)."""
    value = os.environ.get(variable, "")
    if not value:
        raise ConfigError(f"{where}: environment variable {variable} is not set")
    return value
