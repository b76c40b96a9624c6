"""Slack-compatible incoming-webhook notices (also Mattermost, Rocket.Chat, Teams' Slack
mode): a JSON ``POST`` with ``text`` and one ``section`` block in Block Kit's mrkdwn,
sent with httpx. The URL is a secret: it comes from ``DRILLBOOK_WEBHOOK_URL`` or
``--webhook``, never from the plan in git, and is never printed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from drillbook.errors import AdapterError, ConfigError
from drillbook.notify.base import DrillNotice, Notifier
from drillbook.notify.digest import Digest, DigestNotifier, secret_url
from drillbook.notify.posting import post_json, public_part
from drillbook.notify.settings import NotifySettings


def payload(notice: DrillNotice) -> dict[str, Any]:
    text = notice.text()
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        "metadata": {
            "event_type": f"drillbook_drill_{notice.phase}",
            "event_payload": {
                "drill_id": notice.run_id,
                "plan": notice.plan_name,
                "status": notice.status or "running",
            },
        },
    }


class WebhookNotifier(Notifier):
    name = "webhook"

    def __init__(self, url: str, *, client: httpx.Client | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise AdapterError(
                "webhook",
                "configure",
                "the webhook URL is not http(s)",
                "DRILLBOOK_WEBHOOK_URL or --webhook",
            )
        self.url = url
        self._client = client

    @property
    def where(self) -> str:
        """Scheme, host and port only: the path (and any user:password@) hold the secret."""
        return public_part(self.url)

    def _scrub(self, text: str) -> str:
        """A receiver's answer without the URL's secret parts, should it echo them."""
        parts = urlsplit(self.url)
        for secret in (parts.path, parts.query, parts.password, parts.username):
            if secret and secret != "/":
                text = text.replace(secret, "***")
        return text

    def post(self, body: dict[str, Any], *, refused: str) -> None:
        post_json(
            "webhook",
            self.url,
            body,
            client=self._client,
            unreachable="the webhook URL and that the receiver is reachable",
            refused=refused,
            scrub=self._scrub,
        )

    def send(self, notice: DrillNotice) -> None:
        self.post(
            payload(notice), refused="that the webhook URL is current (Slack revokes old ones)"
        )


class WebhookDigestNotifier(DigestNotifier):
    """Reminder and escalation digests to the same Slack-compatible webhook: one message
    per person, addressed to them by name."""

    name = "webhook"

    def __init__(self, url: str, *, client: httpx.Client | None = None) -> None:
        self._webhook = WebhookNotifier(url, client=client)

    @classmethod
    def from_settings(cls, settings: NotifySettings) -> DigestNotifier:
        if settings.webhook is None:
            raise ConfigError("notify.webhook is not configured in drillbook.yaml")
        return cls(secret_url(settings.webhook.url_env, "notify.webhook.url_env"))

    def send_digest(self, digest: Digest) -> None:
        # Slack's mrkdwn treats <...> as links and commands (<!channel> pages everyone):
        # escape the three control characters, as Slack documents, in the hostile text
        body = digest.text().replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        text = f"*{digest.subject}*\n{body}"
        self._webhook.post(
            {
                "text": text,
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
            },
            refused="that the webhook URL is current",
        )
