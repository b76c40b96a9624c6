"""Microsoft Teams incoming webhooks (a Workflows "post to a channel when a webhook
request is received" URL, or a legacy Office 365 connector): one ``POST`` per digest
carrying an Adaptive Card 1.4 in a ``message`` attachment, the shape both accept.

The URL is a secret (it lets anyone post to the channel): it comes from the environment
variable named in ``notify.teams.url_env`` and only its host is ever printed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx

from drillbook.errors import AdapterError, ConfigError
from drillbook.notify.digest import Digest, DigestNotifier, secret_url
from drillbook.notify.posting import post_json, public_part
from drillbook.notify.settings import NotifySettings


def card(digest: Digest) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "size": "Medium",
            "weight": "Bolder",
            "text": digest.subject,
            "wrap": True,
        },
        {"type": "TextBlock", "text": f"For {digest.recipient.name}", "wrap": True},
    ]
    body.append({"type": "TextBlock", "text": digest.text(), "wrap": True, "fontType": "Monospace"})
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": body,
                },
            }
        ],
    }


class TeamsNotifier(DigestNotifier):
    name = "teams"

    def __init__(self, url: str, *, client: httpx.Client | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise AdapterError(
                "Teams", "configure", "the webhook URL is not http(s)", "notify.teams.url_env"
            )
        self.url = url
        self._client = client

    @classmethod
    def from_settings(cls, settings: NotifySettings) -> DigestNotifier:
        if settings.teams is None:
            raise ConfigError("notify.teams is not configured in drillbook.yaml")
        return cls(secret_url(settings.teams.url_env, "notify.teams.url_env"))

    @property
    def where(self) -> str:
        return public_part(self.url)

    def send_digest(self, digest: Digest) -> None:
        post_json(
            "Teams",
            self.url,
            card(digest),
            client=self._client,
            unreachable="that the webhook is reachable",
            refused="that the Teams webhook (notify.teams.url_env) is current",
        )
