"""The tracker interface: put a finding in the team's own ticket system and read it back.

The second seed: "Findings track in your normal engineering ticket system (Linear,
Jira)". A tracker adapter knows one system's API; :mod:`drillbook.flows.tracker_sync`
decides what to copy which way. Adapters are found by name through the
``drillbook.trackers`` entry points (:func:`load_tracker`), so a team's own tracker
installs as a package.

Every issue drillbook creates carries a **marker** (``drillbook-F-001``, as a label or a
line in the description) and adapters list marked issues before creating one: a crash
between the remote create and the local write leaves an issue the next run adopts, never
a duplicate.

:class:`Http` is the one place requests go out: it waits out rate limits (``429`` with
``Retry-After``; GitHub's secondary limits: ``403``/``429`` with ``retry-after`` or an
exhausted ``x-ratelimit-remaining``), turns ``401``/``403`` into one clear error that
names the setting to check, and never puts the token in a message.
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field

from drillbook import clock
from drillbook.errors import AdapterError, ConfigError

TIMEOUT_SECONDS = 20.0
MAX_RETRIES = 5
#: Never sleep longer than this for one rate-limit answer (cron runs must finish).
MAX_WAIT_SECONDS = 120.0

#: The neutral states every tracker maps to: not started, being worked on, finished.
TODO, DOING, DONE = "todo", "doing", "done"


class TrackerSettings(BaseModel):
    """Keys every tracker section accepts (each adapter adds its own)."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="Which adapter: jira, github, linear (an entry point name).")
    token_env: str = Field(
        description="Name of the environment variable holding the API token (never the "
        "token itself: drillbook.yaml is in git)."
    )
    marker_prefix: str = Field(
        default="drillbook",
        pattern=r"^[a-z0-9][a-z0-9-]{0,30}$",
        description="Label/marker prefix; give libraries that share a project distinct ones.",
    )
    users: dict[str, str] = Field(
        default_factory=dict,
        description="Finding owner -> the tracker's user (account id, login or user id).",
    )


@dataclass(frozen=True)
class IssueDraft:
    """What a new issue says about a finding."""

    finding_id: str
    marker: str
    title: str
    body: str
    severity: str
    state: str
    owner: str | None = None
    due: date | None = None
    labels: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RemoteIssue:
    """An issue as the tracker reports it, in drillbook's words."""

    key: str
    marker: str | None
    state: str
    owner: str | None
    due: date | None
    url: str | None = None
    remote_id: str | None = None
    changed_by: str | None = None


class Tracker(ABC):
    """One configured tracker. ``name`` is its key under ``trackers:``; ``display`` is the
    product ("Jira") used in history lines ("changed in Jira by X")."""

    kind: ClassVar[str] = "tracker"
    display: ClassVar[str] = "tracker"
    settings_model: ClassVar[type[TrackerSettings]] = TrackerSettings

    def __init__(
        self,
        name: str,
        settings: TrackerSettings,
        *,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        token: str | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.token = token if token is not None else _token(name, settings.token_env)
        self._client = client
        self._owns_client = False
        self._sleep = sleep

    def coarse(self, state: str) -> str:
        """The state as this tracker can show it (GitHub has no "doing")."""
        return state

    def marker(self, finding_id: str) -> str:
        return f"{self.settings.marker_prefix}-{finding_id}"

    #: True when the tracker takes only its own user ids (Jira Cloud account ids, Linear
    #: user ids): an owner missing from ``users:`` then cannot be sent at all.
    needs_mapped_users: ClassVar[bool] = False

    def owner_as_seen(self, owner: str | None) -> str | None:
        """The owner as this tracker can show it (None: it has no way to), so that an owner
        the tracker cannot hold is neither pushed on every run nor taken for a change."""
        if owner is None or (self.needs_mapped_users and owner not in self.settings.users):
            return None
        return owner

    def remote_user(self, owner: str | None) -> str | None:
        if owner is None:
            return None
        return self.settings.users.get(owner, owner)

    def local_owner(self, remote: str | None) -> str | None:
        if remote is None:
            return None
        reverse = {v: k for k, v in self.settings.users.items()}
        return reverse.get(remote, remote)

    @abstractmethod
    def list_marked(self) -> dict[str, RemoteIssue]:
        """Every issue carrying one of this library's markers, by marker (all pages)."""

    @abstractmethod
    def create(self, draft: IssueDraft) -> RemoteIssue:
        """Create the issue; the marker must be findable by :meth:`list_marked` after."""

    @abstractmethod
    def update(
        self,
        issue: RemoteIssue,
        *,
        state: str | None = None,
        owner: str | None = None,
        due: date | None = None,
        set_owner: bool = False,
        set_due: bool = False,
    ) -> None:
        """Change state and/or owner and/or due date (``set_*`` so None can clear)."""

    def http(self, base_url: str, headers: Mapping[str, str]) -> Http:
        if self._client is None:
            self._client = httpx.Client(timeout=TIMEOUT_SECONDS)
            self._owns_client = True
        return Http(
            self.display,
            base_url,
            headers,
            secret=self.token,
            token_env=self.settings.token_env,
            client=self._client,
            sleep=self._sleep,
        )

    def close(self) -> None:
        """Close the HTTP client this tracker opened (not one it was given)."""
        if self._client is not None and self._owns_client:
            self._client.close()
            self._client = None


def _token(name: str, variable: str) -> str:
    value = os.environ.get(variable, "")
    if not value:
        raise ConfigError(
            f"tracker '{name}': environment variable {variable} is not set "
            f"(trackers.{name}.token_env names where its API token is)"
        )
    return value


class Http:
    """Requests to one tracker's API, with rate limits waited out and errors made clear."""

    def __init__(
        self,
        system: str,
        base_url: str,
        headers: Mapping[str, str],
        *,
        secret: str,
        token_env: str,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.system = system
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers)
        self.secret = secret
        self.token_env = token_env
        self.client = client or httpx.Client(timeout=TIMEOUT_SECONDS)
        self.sleep = sleep

    def scrub(self, text: str) -> str:
        return text.replace(self.secret, "***") if self.secret else text

    def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        passthrough: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """Send, retrying rate-limited answers; return a 2xx response or raise AdapterError.
        ``url`` is a path under the base URL or a full URL (a ``Link: rel=next``);
        ``passthrough`` statuses are returned for the caller to read (GraphQL errors)."""
        full = url if url.startswith(("http://", "https://")) else self.base_url + url
        call = f"{method} {httpx.URL(full).path}"
        for attempt in range(MAX_RETRIES + 1):
            try:
                response = self.client.request(
                    method, full, json=json, params=params, headers=self.headers
                )
            except httpx.HTTPError as exc:
                raise AdapterError(
                    self.system,
                    call,
                    type(exc).__name__,
                    f"that {httpx.URL(full).host} is reachable",
                ) from None
            wait = rate_limit_wait(response)
            if wait is not None and attempt < MAX_RETRIES:
                self.sleep(min(wait, MAX_WAIT_SECONDS))
                continue
            if wait is not None:
                raise AdapterError(
                    self.system,
                    call,
                    f"still rate limited after {MAX_RETRIES} retries",
                    "run sync again later",
                )
            if response.status_code in passthrough:
                return response
            if response.status_code in (401, 403):
                raise AdapterError(
                    self.system,
                    call,
                    f"authentication failed (HTTP {response.status_code})",
                    f"the token in ${self.token_env} is valid and may use this project",
                )
            if response.status_code >= 400:
                raise AdapterError(
                    self.system,
                    call,
                    f"HTTP {response.status_code}: {self.scrub(response.text[:300])}",
                    "the tracker's settings in drillbook.yaml",
                )
            return response
        raise AssertionError("unreachable")  # pragma: no cover


def rate_limit_wait(response: httpx.Response) -> float | None:
    """Seconds to wait before retrying, or None when the answer is not a rate limit.

    ``429`` (any API) and GitHub's secondary limits (``403`` with ``retry-after``, or with
    ``x-ratelimit-remaining: 0`` and an ``x-ratelimit-reset`` epoch)."""
    if response.status_code not in (403, 429):
        return None
    retry_after = response.headers.get("retry-after")
    if retry_after is not None:
        try:
            return max(float(retry_after), 0.0)
        except ValueError:
            try:
                moment = parsedate_to_datetime(retry_after)
            except (TypeError, ValueError):
                return 1.0
            return max((moment - clock.now()).total_seconds(), 0.0)
    if response.headers.get("x-ratelimit-remaining") == "0":
        reset = response.headers.get("x-ratelimit-reset")
        if reset and reset.isdigit():
            return max(float(reset) - clock.now().timestamp(), 1.0)
        return 60.0
    return 1.0 if response.status_code == 429 else None


def parse_date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
