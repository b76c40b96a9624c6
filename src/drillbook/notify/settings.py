"""The ``notify:`` section of ``drillbook.yaml``: who hears about findings, when, and how.

    notify:
      channel: email               # email, teams or webhook
      security_lead: sam           # a person id from people:
      remind_before: [7d, 1d]      # reminders to the owner before the SLA date
      escalate_after:              # after the SLA date: owner, then the team's
        owner: 1d                  #   escalation_contact, then the security lead
        escalation_contact: 7d
        security_lead: 14d
      email: {host: smtp.example.com, port: 587, sender: drillbook@example.com,
              username: drillbook@example.com, password_env: DRILLBOOK_SMTP_PASSWORD}
      teams: {url_env: DRILLBOOK_TEAMS_WEBHOOK}
      webhook: {url_env: DRILLBOOK_WEBHOOK_URL}

Secrets (SMTP password, webhook URLs) are named by environment variable, never written
here: the file is in git.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from drillbook.documents.durations import DurationText, parse_duration
from drillbook.errors import Problem


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EmailSettings(_Strict):
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", description="From address.")
    sender_name: str = "drillbook"
    starttls: bool = Field(default=True, description="Upgrade with STARTTLS before login.")
    tls: bool = Field(default=False, description="Implicit TLS (port 465).")
    username: str | None = None
    password_env: str | None = Field(
        default=None, description="Environment variable holding the SMTP password."
    )
    ca_file: str | None = Field(default=None, description="CA bundle for an internal relay.")

    @model_validator(mode="after")
    def _password_named(self) -> EmailSettings:
        if self.username and not self.password_env:
            raise ValueError("username is set: name the password's variable in password_env")
        return self


class WebhookSettings(_Strict):
    url_env: str = Field(description="Environment variable holding the webhook URL.")


class EscalationSteps(_Strict):
    owner: DurationText = "1d"
    escalation_contact: DurationText = "7d"
    security_lead: DurationText = "14d"


class NotifySettings(_Strict):
    channel: Literal["email", "teams", "webhook"] = "email"
    security_lead: str | None = Field(default=None, description="Person id of the lead.")
    remind_before: list[DurationText] = Field(default_factory=lambda: ["7d", "1d"])
    escalate_after: EscalationSteps = Field(default_factory=EscalationSteps)
    email: EmailSettings | None = None
    teams: WebhookSettings | None = None
    webhook: WebhookSettings | None = None

    @model_validator(mode="after")
    def _channel_configured(self) -> NotifySettings:
        if getattr(self, self.channel) is None:
            raise ValueError(f"channel is {self.channel} but there is no {self.channel}: section")
        return self

    def reminder_days(self) -> list[int]:
        return sorted({_days(v) for v in self.remind_before}, reverse=True)

    def escalation_days(self) -> dict[str, int]:
        steps = self.escalate_after
        return {
            "owner": _days(steps.owner),
            "escalation_contact": _days(steps.escalation_contact),
            "security_lead": _days(steps.security_lead),
        }


def _days(text: str) -> int:
    return int(parse_duration(text).total_seconds() // 86400)


def notify_problems(section: dict[str, Any], path: Path, document: Any) -> list[Problem]:
    """Problems in ``notify:``, located in the file."""
    from drillbook.documents.validation import problems_from

    try:
        NotifySettings.model_validate(section)
    except ValidationError as exc:
        inner = document.get("notify") if hasattr(document, "get") else None
        return [
            Problem(p.location, f"notify: {p.message.removeprefix('document: ')}", p.code, p.level)
            for p in problems_from(exc, path, inner if inner is not None else document)
        ]
    return []
