"""Linear (GraphQL API at ``/graphql``, as documented for the 2024-2025 schema).

* create: ``issueCreate(input: {teamId, title, description, priority, dueDate,
  assigneeId, stateId})``; priority is 1 urgent, 2 high, 3 medium, 4 low;
* find: ``issues(filter: {team: {id: {eq}}, description: {contains: marker prefix}},
  first, after)`` paged by ``pageInfo { hasNextPage endCursor }``; the marker is a line
  ``drillbook-F-001`` in the description; ``history(first: 1)`` says who changed it last;
* states: ``workflowStates(filter: {team: {id: {eq}}})``; done is read from the state's
  ``type`` (``backlog``/``unstarted``/``started``/``completed``/``canceled``);
* edit: ``issueUpdate(id, input: {stateId, assigneeId, dueDate})``.

Linear answers GraphQL errors with HTTP 200 or 400 and an ``errors`` list; an
``AUTHENTICATION_ERROR`` becomes the one auth error, ``RATELIMITED`` is waited out.
Personal API keys go in ``Authorization`` as they are (no ``Bearer``).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, ClassVar

from pydantic import Field

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

PAGE_SIZE = 50
_TYPE_STATE = {
    "triage": TODO,
    "backlog": TODO,
    "unstarted": TODO,
    "started": DOING,
    "completed": DONE,
    "canceled": DONE,
}
_STATE_TYPE = {TODO: "unstarted", DOING: "started", DONE: "completed"}
_PRIORITY = {"critical": 1, "high": 2, "medium": 3, "low": 4}

ISSUE_FIELDS = """
  id identifier url description dueDate
  state { type }
  assignee { id name }
  history(first: 1) { nodes { actor { name } } }
"""

LIST_ISSUES = """
query Marked($team: ID!, $marker: String!, $after: String) {
  issues(filter: {team: {id: {eq: $team}}, description: {contains: $marker}},
         first: PAGE_SIZE, after: $after) {
    nodes { ISSUE_FIELDS }
    pageInfo { hasNextPage endCursor }
  }
}""".replace("PAGE_SIZE", str(PAGE_SIZE)).replace("ISSUE_FIELDS", ISSUE_FIELDS)

CREATE_ISSUE = f"""
mutation Create($input: IssueCreateInput!) {{
  issueCreate(input: $input) {{ success issue {{ {ISSUE_FIELDS} }} }}
}}"""

UPDATE_ISSUE = """
mutation Update($id: String!, $input: IssueUpdateInput!) {
  issueUpdate(id: $id, input: $input) { success }
}"""

STATES = """
query States($team: ID!) {
  workflowStates(filter: {team: {id: {eq: $team}}}) { nodes { id name type } }
}"""


class LinearSettings(TrackerSettings):
    team_id: str = Field(min_length=1, description="The Linear team's id (UUID).")
    api_url: str = Field(default="https://api.linear.app/graphql", pattern=r"^https?://")


class LinearTracker(Tracker):
    kind = "linear"
    display = "Linear"
    settings_model: ClassVar[type[TrackerSettings]] = LinearSettings
    needs_mapped_users = True

    @property
    def linear(self) -> LinearSettings:
        assert isinstance(self.settings, LinearSettings)
        return self.settings

    def _http(self) -> Http:
        return self.http(
            self.linear.api_url,
            {"Authorization": self.token, "Content-Type": "application/json"},
        )

    def _query(self, http: Http, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        operation = query.split("(", 1)[0].split()[-1]
        for _attempt in range(5):
            answer = http.request(
                "POST",
                "",
                json={"query": query, "variables": variables},
                passthrough=frozenset({400}),
            ).json()
            errors = answer.get("errors") or []
            codes = {str((e.get("extensions") or {}).get("code", "")) for e in errors}
            if "RATELIMITED" in codes:
                http.sleep(10.0)
                continue
            if "AUTHENTICATION_ERROR" in codes:
                raise AdapterError(
                    "Linear",
                    operation,
                    "authentication failed",
                    f"the API key in ${self.settings.token_env}",
                )
            if errors:
                text = "; ".join(str(e.get("message")) for e in errors)
                raise AdapterError("Linear", operation, http.scrub(text), "the tracker's settings")
            data: dict[str, Any] = answer.get("data") or {}
            return data
        raise AdapterError("Linear", operation, "still rate limited", "run sync again later")

    def _issue(self, raw: dict[str, Any]) -> RemoteIssue:
        prefix = re.escape(self.settings.marker_prefix)
        found = re.search(rf"\b({prefix}-F-\d+)\b", raw.get("description") or "")
        assignee = raw.get("assignee") or {}
        history = ((raw.get("history") or {}).get("nodes")) or []
        actor = (history[0].get("actor") or {}) if history else {}
        return RemoteIssue(
            key=str(raw["identifier"]),
            marker=found.group(1) if found else None,
            state=_TYPE_STATE.get(str((raw.get("state") or {}).get("type")), TODO),
            owner=self.local_owner(assignee.get("id")) if assignee else None,
            due=parse_date(raw.get("dueDate")),
            url=raw.get("url"),
            remote_id=str(raw["id"]),
            changed_by=actor.get("name"),
        )

    def list_marked(self) -> dict[str, RemoteIssue]:
        http = self._http()
        found: dict[str, RemoteIssue] = {}
        after: str | None = None
        while True:
            data = self._query(
                http,
                LIST_ISSUES,
                {
                    "team": self.linear.team_id,
                    "marker": f"{self.settings.marker_prefix}-F-",
                    "after": after,
                },
            )
            page = data.get("issues") or {}
            for raw in page.get("nodes") or []:
                issue = self._issue(raw)
                if issue.marker and issue.marker not in found:
                    found[issue.marker] = issue
            info = page.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return found
            after = info.get("endCursor")

    def _state_id(self, http: Http, state: str) -> str:
        nodes = self._query(http, STATES, {"team": self.linear.team_id})
        wanted = _STATE_TYPE[state]
        for node in (nodes.get("workflowStates") or {}).get("nodes") or []:
            if node.get("type") == wanted:
                return str(node["id"])
        raise AdapterError(
            "Linear",
            "workflowStates",
            f"the team has no workflow state of type {wanted}",
            "the team's workflow in Linear",
        )

    def create(self, draft: IssueDraft) -> RemoteIssue:
        http = self._http()
        payload: dict[str, Any] = {
            "teamId": self.linear.team_id,
            "title": draft.title,
            "description": f"{draft.body}\n\n{draft.marker}",
            "priority": _PRIORITY.get(draft.severity, 0),
        }
        if draft.due is not None:
            payload["dueDate"] = draft.due.isoformat()
        assignee = self.remote_user(self.owner_as_seen(draft.owner))
        if assignee:
            payload["assigneeId"] = assignee
        if draft.state != TODO:
            payload["stateId"] = self._state_id(http, draft.state)
        data = self._query(http, CREATE_ISSUE, {"input": payload})
        created = data.get("issueCreate") or {}
        if not created.get("success") or not created.get("issue"):
            raise AdapterError("Linear", "issueCreate", "not created", "the team id")
        return self._issue(created["issue"])

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
        if state is not None and state != issue.state:
            payload["stateId"] = self._state_id(http, state)
        if set_owner:
            payload["assigneeId"] = self.remote_user(self.owner_as_seen(owner))
        if set_due:
            payload["dueDate"] = due.isoformat() if due else None
        if payload:
            data = self._query(http, UPDATE_ISSUE, {"id": issue.remote_id, "input": payload})
            if not (data.get("issueUpdate") or {}).get("success"):
                raise AdapterError("Linear", "issueUpdate", "not updated", "the issue exists")
