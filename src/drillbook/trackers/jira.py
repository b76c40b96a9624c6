"""Jira Cloud (REST v3) and Jira Data Center / Server (REST v2).

Follows Atlassian's documented endpoints:

* create: ``POST /rest/api/{2|3}/issue`` with ``fields`` (project, summary, issuetype,
  priority by name, labels, duedate, assignee by ``accountId`` on Cloud or ``name`` on
  Data Center); the v3 description is an Atlassian Document, v2's plain text;
* find: JQL ``labels = "<marker prefix>"``: Cloud ``GET /rest/api/3/search/jql`` paged by
  ``nextPageToken``, Data Center ``GET /rest/api/2/search`` paged by ``startAt``; both
  with ``expand=changelog`` to say who made the last change;
* done is read from ``status.statusCategory.key`` (``new``, ``indeterminate``,
  ``done``), never from status names, which every workflow renames; moving an issue uses
  ``GET/POST .../issue/{key}/transitions``, by the names in ``transitions:`` or else the
  first transition into the wanted category;
* edit: ``PUT /rest/api/{2|3}/issue/{key}`` with ``assignee`` and ``duedate``.

Auth: Cloud uses the account e-mail and an API token (basic); Data Center a personal
access token (bearer).
"""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import date
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from drillbook.errors import AdapterError
from drillbook.trackers.base import (
    DOING,
    DONE,
    TODO,
    Http,
    IssueDraft,
    RemoteIssue,
    Tracker,
    TrackerSettings,
    parse_date,
)

_CATEGORY_STATE = {"new": TODO, "indeterminate": DOING, "done": DONE}
_STATE_CATEGORY = {v: k for k, v in _CATEGORY_STATE.items()}
PAGE_SIZE = 50


class JiraSettings(TrackerSettings):
    url: str = Field(pattern=r"^https?://", description="Site URL, e.g. https://acme.atlassian.net")
    project: str = Field(min_length=1, description="Project key, e.g. SEC.")
    deployment: Literal["cloud", "datacenter"] = "cloud"
    email: str | None = Field(default=None, description="Account e-mail (Cloud basic auth).")
    issue_type: str = "Task"
    priorities: dict[str, str] = Field(
        default_factory=lambda: {
            "critical": "Highest",
            "high": "High",
            "medium": "Medium",
            "low": "Low",
        },
        description="Finding severity -> Jira priority name.",
    )
    transitions: dict[Literal["todo", "doing", "done"], str] = Field(
        default_factory=dict,
        description="Transition names to use for each state (default: the first into the "
        "matching status category).",
    )

    @model_validator(mode="after")
    def _cloud_needs_email(self) -> JiraSettings:
        if self.deployment == "cloud" and not self.email:
            raise ValueError("Jira Cloud needs 'email' (the API token's account)")
        return self


class JiraTracker(Tracker):
    kind = "jira"
    display = "Jira"
    settings_model: ClassVar[type[TrackerSettings]] = JiraSettings

    @property
    def jira(self) -> JiraSettings:
        assert isinstance(self.settings, JiraSettings)
        return self.settings

    @property
    def cloud(self) -> bool:
        return self.jira.deployment == "cloud"

    def owner_as_seen(self, owner: str | None) -> str | None:
        # Cloud assigns by account id only; Data Center takes user names as they are
        if self.cloud and owner is not None and owner not in self.settings.users:
            return None
        return owner

    @property
    def api(self) -> str:
        return "/rest/api/3" if self.cloud else "/rest/api/2"

    def _http(self) -> Http:
        if self.cloud:
            basic = base64.b64encode(f"{self.jira.email}:{self.token}".encode()).decode()
            auth = f"Basic {basic}"
        else:
            auth = f"Bearer {self.token}"
        return self.http(self.jira.url, {"Authorization": auth, "Accept": "application/json"})

    # reading

    def _issue(self, raw: dict[str, Any]) -> RemoteIssue:
        fields = raw.get("fields") or {}
        prefix = f"{self.settings.marker_prefix}-"
        labels = [str(label) for label in fields.get("labels") or []]
        marker = next((lb for lb in labels if lb.startswith(prefix)), None)
        category = ((fields.get("status") or {}).get("statusCategory") or {}).get("key", "new")
        assignee = fields.get("assignee") or None
        remote_user = None
        if assignee:
            remote_user = assignee.get("accountId") if self.cloud else assignee.get("name")
        histories = (raw.get("changelog") or {}).get("histories") or []
        last = max(histories, key=lambda h: str(h.get("created", "")), default=None)
        changed_by = ((last or {}).get("author") or {}).get("displayName")
        return RemoteIssue(
            key=str(raw["key"]),
            marker=marker,
            state=_CATEGORY_STATE.get(str(category), TODO),
            owner=self.local_owner(remote_user),
            due=parse_date(fields.get("duedate")),
            url=f"{self.jira.url.rstrip('/')}/browse/{raw['key']}",
            remote_id=str(raw.get("id")) if raw.get("id") is not None else None,
            changed_by=changed_by,
        )

    def list_marked(self) -> dict[str, RemoteIssue]:
        http = self._http()
        jql = f'project = "{self.jira.project}" AND labels = "{self.settings.marker_prefix}"'
        params: dict[str, Any] = {
            "jql": jql,
            "fields": "labels,status,assignee,duedate",
            "expand": "changelog",
            "maxResults": PAGE_SIZE,
        }
        found: dict[str, RemoteIssue] = {}
        if self.cloud:
            while True:
                page = http.request("GET", f"{self.api}/search/jql", params=params).json()
                for raw in page.get("issues", []):
                    self._keep(found, self._issue(raw))
                token = page.get("nextPageToken")
                if page.get("isLast", token is None) or not token:
                    return found
                params = {**params, "nextPageToken": token}
        start = 0
        while True:
            page = http.request(
                "GET", f"{self.api}/search", params={**params, "startAt": start}
            ).json()
            issues = page.get("issues", [])
            for raw in issues:
                self._keep(found, self._issue(raw))
            start += len(issues)
            if not issues or start >= int(page.get("total", 0)):
                return found

    @staticmethod
    def _keep(found: dict[str, RemoteIssue], issue: RemoteIssue) -> None:
        if issue.marker and issue.marker not in found:
            found[issue.marker] = issue

    # writing

    def _description(self, text: str) -> Any:
        if not self.cloud:
            return text
        return {
            "type": "doc",
            "version": 1,
            "content": [
                {"type": "paragraph", "content": [{"type": "text", "text": line}]}
                for line in text.splitlines()
                if line.strip()
            ],
        }

    def _assignee(self, owner: str | None) -> dict[str, str] | None:
        user = self.remote_user(owner)
        if user is None:
            return None
        return {"accountId": user} if self.cloud else {"name": user}

    def create(self, draft: IssueDraft) -> RemoteIssue:
        http = self._http()
        fields: dict[str, Any] = {
            "project": {"key": self.jira.project},
            "summary": draft.title,
            "issuetype": {"name": self.jira.issue_type},
            "description": self._description(draft.body),
            "labels": [self.settings.marker_prefix, draft.marker, *draft.labels],
        }
        priority = self.jira.priorities.get(draft.severity)
        if priority:
            fields["priority"] = {"name": priority}
        if draft.due is not None:
            fields["duedate"] = draft.due.isoformat()
        assignee = self._assignee(draft.owner)
        if assignee is not None:
            fields["assignee"] = assignee
        created = http.request("POST", f"{self.api}/issue", json={"fields": fields}).json()
        issue = RemoteIssue(
            key=str(created["key"]),
            marker=draft.marker,
            state=TODO,
            owner=draft.owner,
            due=draft.due,
            url=f"{self.jira.url.rstrip('/')}/browse/{created['key']}",
            remote_id=str(created.get("id")),
        )
        if draft.state != TODO:
            self._transition(http, issue.key, draft.state)
            issue = replace(issue, state=draft.state)
        return issue

    def _transition(self, http: Http, key: str, state: str) -> None:
        listed = http.request("GET", f"{self.api}/issue/{key}/transitions").json()
        options = listed.get("transitions", [])
        wanted_name = self.jira.transitions.get(state)  # type: ignore[call-overload]
        category = _STATE_CATEGORY[state]
        chosen = next(
            (
                t
                for t in options
                if (wanted_name and t.get("name") == wanted_name)
                or (
                    not wanted_name
                    and ((t.get("to") or {}).get("statusCategory") or {}).get("key") == category
                )
            ),
            None,
        )
        if chosen is None:
            names = ", ".join(str(t.get("name")) for t in options) or "none"
            raise AdapterError(
                "Jira",
                f"POST {self.api}/issue/{key}/transitions",
                f"no transition to {wanted_name or category} from this status (available: {names})",
                f"trackers.{self.name}.transitions.{state} in drillbook.yaml",
            )
        http.request(
            "POST",
            f"{self.api}/issue/{key}/transitions",
            json={"transition": {"id": str(chosen["id"])}},
        )

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
        http = self._http()
        fields: dict[str, Any] = {}
        if set_owner:
            fields["assignee"] = self._assignee(owner)
        if set_due:
            fields["duedate"] = due.isoformat() if due else None
        if fields:
            http.request("PUT", f"{self.api}/issue/{issue.key}", json={"fields": fields})
        if state is not None and state != issue.state:
            self._transition(http, issue.key, state)
