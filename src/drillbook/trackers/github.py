"""GitHub Issues (REST API, version header ``2022-11-28``).

Follows GitHub's documented endpoints:

* create: ``POST /repos/{owner}/{repo}/issues`` with ``title``, ``body``, ``labels``,
  ``assignees`` (logins) and ``milestone`` (a number);
* find: ``GET /repos/{owner}/{repo}/issues?labels=<prefix>&state=all&per_page=100``,
  following ``Link: <...>; rel="next"`` (pull requests, which the endpoint also returns,
  are skipped);
* due dates are milestones (GitHub issues have none of their own): one milestone per
  date, titled ``due YYYY-MM-DD`` with ``due_on``, found through
  ``GET /repos/{owner}/{repo}/milestones?state=all`` or created with ``POST``;
* edit: ``PATCH /repos/{owner}/{repo}/issues/{number}`` (``state`` + ``state_reason``,
  ``assignees``, ``milestone``).

GitHub knows open and closed only, so "in progress" reads as open. Secondary rate limits
(``403``/``429`` with ``retry-after`` or ``x-ratelimit-remaining: 0``) are waited out by
:class:`~drillbook.trackers.base.Http`.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from typing import Any, ClassVar

import httpx
from pydantic import Field

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

API_VERSION = "2022-11-28"
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class GitHubSettings(TrackerSettings):
    repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", description="owner/name")
    api_url: str = Field(default="https://api.github.com", pattern=r"^https?://")


def quiet(text: str) -> str:
    """Finding text with ``@mentions`` defused (a zero-width space after ``@``): the text
    may come from a hostile technique or scenario, and must not page a team."""
    return text.replace("@", "@\u200b")


def next_link(response: httpx.Response) -> str | None:
    found = _NEXT.search(response.headers.get("link", ""))
    return found.group(1) if found else None


class GitHubTracker(Tracker):
    kind = "github"
    display = "GitHub"
    settings_model: ClassVar[type[TrackerSettings]] = GitHubSettings
    # an unknown login in `assignees` fails the whole request (422): send mapped ones only
    needs_mapped_users = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._milestone_numbers: dict[date, int] = {}

    @property
    def gh(self) -> GitHubSettings:
        assert isinstance(self.settings, GitHubSettings)
        return self.settings

    def coarse(self, state: str) -> str:
        return TODO if state == DOING else state

    def _http(self) -> Http:
        return self.http(
            self.gh.api_url,
            {
                "Authorization": f"Bearer {self.token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
            },
        )

    @property
    def _repo(self) -> str:
        return f"/repos/{self.gh.repository}"

    def _issue(self, raw: dict[str, Any]) -> RemoteIssue:
        prefix = f"{self.settings.marker_prefix}-"
        names = [str(label.get("name", "")) for label in raw.get("labels") or []]
        marker = next((n for n in names if n.startswith(prefix)), None)
        assignees = raw.get("assignees") or []
        login = assignees[0].get("login") if assignees else None
        milestone = raw.get("milestone") or {}
        closed = raw.get("state") == "closed"
        changed_by = (raw.get("closed_by") or {}).get("login") if closed else None
        return RemoteIssue(
            key=f"{self.gh.repository}#{raw['number']}",
            marker=marker,
            state=DONE if closed else TODO,
            owner=self.local_owner(login),
            due=parse_date(milestone.get("due_on")),
            url=raw.get("html_url"),
            remote_id=str(raw["number"]),
            changed_by=changed_by,
        )

    def list_marked(self) -> dict[str, RemoteIssue]:
        http = self._http()
        found: dict[str, RemoteIssue] = {}
        url: str | None = f"{self._repo}/issues"
        params: dict[str, Any] | None = {
            "labels": self.settings.marker_prefix,
            "state": "all",
            "per_page": 100,
        }
        while url:
            response = http.request("GET", url, params=params)
            for raw in response.json():
                if "pull_request" in raw:
                    continue
                issue = self._issue(raw)
                if issue.marker and issue.marker not in found:
                    found[issue.marker] = issue
            url, params = next_link(response), None  # the next link carries the query
        return found

    def _milestone(self, http: Http, due: date) -> int:
        """The number of the milestone for ``due``, found or created once per run (many
        findings share a date; each lookup would spend rate limit)."""
        if due not in self._milestone_numbers:
            self._milestone_numbers[due] = self._find_or_create_milestone(http, due)
        return self._milestone_numbers[due]

    def _find_or_create_milestone(self, http: Http, due: date) -> int:
        title = f"due {due.isoformat()}"
        url: str | None = f"{self._repo}/milestones"
        params: dict[str, Any] | None = {"state": "all", "per_page": 100}
        while url:
            response = http.request("GET", url, params=params)
            for milestone in response.json():
                if milestone.get("title") == title:
                    return int(milestone["number"])
            url, params = next_link(response), None
        created = http.request(
            "POST",
            f"{self._repo}/milestones",
            json={
                "title": title,
                "due_on": f"{due.isoformat()}T00:00:00Z",
                "description": "Findings due on this date (drillbook).",
            },
        ).json()
        return int(created["number"])

    def create(self, draft: IssueDraft) -> RemoteIssue:
        http = self._http()
        payload: dict[str, Any] = {
            "title": quiet(draft.title),
            "body": quiet(draft.body),
            "labels": [
                self.settings.marker_prefix,
                draft.marker,
                f"severity:{draft.severity}",
                *draft.labels,
            ],
        }
        login = self.remote_user(self.owner_as_seen(draft.owner))
        if login:
            payload["assignees"] = [login]
        if draft.due is not None:
            payload["milestone"] = self._milestone(http, draft.due)
        raw = http.request("POST", f"{self._repo}/issues", json=payload).json()
        issue = self._issue(raw)
        if self.coarse(draft.state) == DONE:
            self.update(issue, state=DONE)
            issue = replace(issue, state=DONE)
        return issue

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
        payload: dict[str, Any] = {}
        if state is not None and self.coarse(state) != issue.state:
            closing = self.coarse(state) == DONE
            payload["state"] = "closed" if closing else "open"
            payload["state_reason"] = "completed" if closing else "reopened"
        if set_owner:
            login = self.remote_user(self.owner_as_seen(owner))
            payload["assignees"] = [login] if login else []
        if set_due:
            payload["milestone"] = self._milestone(http, due) if due else None
        if payload:
            http.request("PATCH", f"{self._repo}/issues/{issue.remote_id}", json=payload)
