"""One JSON ``POST`` to an incoming webhook, with the errors every notifier reports the
same way: which system, which call (scheme, host and port only: the URL's path is the
secret), what went wrong and what to check. Shared by the Slack-compatible webhook and
Microsoft Teams notifiers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from drillbook.errors import AdapterError

TIMEOUT_SECONDS = 10.0


def public_part(url: str) -> str:
    """Scheme, host and port only: the path (and any user:password@) hold the secret."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def post_json(
    system: str,
    url: str,
    body: dict[str, Any],
    *,
    client: httpx.Client | None,
    unreachable: str,
    refused: str,
    scrub: Callable[[str], str] | None = None,
) -> None:
    """POST ``body``; raise :class:`AdapterError` naming ``system`` when the receiver
    cannot be reached (``unreachable`` says what to check) or answers with an error
    (``refused``; its answer is shown only through ``scrub``, which hides the secret)."""
    where = f"POST {public_part(url)}"
    own = client or httpx.Client(timeout=TIMEOUT_SECONDS)
    try:
        response = own.post(url, json=body)
    except httpx.HTTPError as exc:
        raise AdapterError(system, where, type(exc).__name__, unreachable) from None
    finally:
        if client is None:
            own.close()
    if response.status_code >= 300:
        answer = f": {scrub(response.text[:200])}" if scrub is not None else ""
        raise AdapterError(system, where, f"HTTP {response.status_code}{answer}", refused)
