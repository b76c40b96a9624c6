"""Fakes of the three trackers' documented APIs, served through ``httpx.MockTransport``.

Each fake keeps issues in memory, answers in the documented response shape, and checks
each request's shape and payload fields (a wrong one fails the test with an assertion).
Pages are kept small (2) so every listing pages. The API version each follows:

* :class:`FakeJira`: Jira Cloud platform REST API v3 (``/rest/api/3/issue``,
  ``/rest/api/3/search/jql`` with ``nextPageToken``/``isLast``, transitions) and Jira Data
  Center REST API v2 (``/rest/api/2/search`` with ``startAt``/``total``), as documented
  by Atlassian for Jira 9 / Cloud 2025;
* :class:`FakeGitHub`: GitHub REST API version ``2022-11-28`` (issues, milestones, ``Link``
  pagination, secondary rate limits);
* :class:`FakeLinear`: Linear GraphQL API (``issueCreate``, ``issueUpdate``, ``issues`` with
  ``pageInfo``, ``workflowStates``) as in Linear's public schema, 2025.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

PAGE = 2


@dataclass
class Faults:
    """Answers to give once before behaving: a rate limit or an auth failure."""

    rate_limit_once: bool = False
    auth_fails: bool = False
    rate_limited: int = 0


# Jira


@dataclass
class FakeJira:
    token: str
    email: str = "bot@example.com"
    cloud: bool = True
    issues: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    requests: list[httpx.Request] = field(default_factory=list)

    @property
    def api(self) -> str:
        return "/rest/api/3" if self.cloud else "/rest/api/2"

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def _auth_ok(self, request: httpx.Request) -> bool:
        header = request.headers.get("authorization", "")
        if self.cloud:
            expected = base64.b64encode(f"{self.email}:{self.token}".encode()).decode()
            return header == f"Basic {expected}"
        return header == f"Bearer {self.token}"

    def set_status(self, key: str, category: str, by: str) -> None:
        issue = self.issues[key]
        issue["fields"]["status"] = {"name": category.title(), "statusCategory": {"key": category}}
        issue["changelog"]["histories"].append(
            {
                "id": str(len(issue["changelog"]["histories"]) + 1),
                "author": {"displayName": by},
                "created": f"2026-03-0{len(issue['changelog']['histories']) + 1}T10:00:00.000+0000",
            }
        )

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.faults.rate_limit_once:
            self.faults.rate_limit_once = False
            self.faults.rate_limited += 1
            return httpx.Response(429, headers={"Retry-After": "2"}, json={})
        if self.faults.auth_fails or not self._auth_ok(request):
            return httpx.Response(
                401, text=f"Unauthorized; you sent {request.headers.get('authorization')}"
            )
        path = request.url.path
        assert path.startswith(self.api), f"{path} is not under {self.api}"
        rest = path.removeprefix(self.api)
        if request.method == "POST" and rest == "/issue":
            return self._create(json.loads(request.content))
        if request.method == "GET" and rest in ("/search/jql", "/search"):
            return self._search(request, rest)
        found = re.fullmatch(r"/issue/([A-Z]+-\d+)(/transitions)?", rest)
        assert found, f"unexpected {request.method} {path}"
        key, transitions = found.group(1), found.group(2)
        issue = self.issues[key]
        if transitions and request.method == "GET":
            return httpx.Response(
                200,
                json={
                    "transitions": [
                        {"id": "11", "name": "To Do", "to": {"statusCategory": {"key": "new"}}},
                        {
                            "id": "21",
                            "name": "In Progress",
                            "to": {"statusCategory": {"key": "indeterminate"}},
                        },
                        {"id": "31", "name": "Done", "to": {"statusCategory": {"key": "done"}}},
                    ]
                },
            )
        if transitions and request.method == "POST":
            body = json.loads(request.content)
            target = {"11": "new", "21": "indeterminate", "31": "done"}[body["transition"]["id"]]
            issue["fields"]["status"] = {"name": target, "statusCategory": {"key": target}}
            return httpx.Response(204)
        assert request.method == "PUT", request.method
        fields = json.loads(request.content)["fields"]
        assert set(fields) <= {"assignee", "duedate"}, fields
        if "assignee" in fields:
            assignee = fields["assignee"]
            if assignee is not None:
                assert set(assignee) == ({"accountId"} if self.cloud else {"name"})
            issue["fields"]["assignee"] = assignee
        if "duedate" in fields:
            issue["fields"]["duedate"] = fields["duedate"]
        return httpx.Response(204)

    def _create(self, body: dict[str, Any]) -> httpx.Response:
        fields = body["fields"]
        assert fields["project"] == {"key": "SEC"}
        assert isinstance(fields["summary"], str)
        assert fields["summary"]
        assert fields["issuetype"] == {"name": "Task"}
        assert fields["priority"]["name"] in {"Highest", "High", "Medium", "Low"}
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", fields["duedate"])
        assert "drillbook" in fields["labels"]
        assert any(re.fullmatch(r"drillbook-F-\d+", lb) for lb in fields["labels"])
        if self.cloud:
            assert fields["description"]["type"] == "doc"
            assert fields["description"]["version"] == 1
        else:
            assert isinstance(fields["description"], str)
        if "assignee" in fields:
            assert set(fields["assignee"]) == ({"accountId"} if self.cloud else {"name"})
        number = len(self.issues) + 1
        key = f"SEC-{number}"
        self.issues[key] = {
            "id": str(10000 + number),
            "key": key,
            "fields": {
                "labels": fields["labels"],
                "status": {"name": "To Do", "statusCategory": {"key": "new"}},
                "assignee": fields.get("assignee"),
                "duedate": fields.get("duedate"),
                "summary": fields["summary"],
                "priority": fields["priority"],
            },
            "changelog": {"histories": []},
        }
        return httpx.Response(
            201,
            json={
                "id": str(10000 + number),
                "key": key,
                "self": f"https://acme.atlassian.net{self.api}/issue/{key}",
            },
        )

    def _search(self, request: httpx.Request, rest: str) -> httpx.Response:
        params = request.url.params
        assert params["jql"] == 'project = "SEC" AND labels = "drillbook"'
        assert "changelog" in params["expand"]
        matching = [i for i in self.issues.values() if "drillbook" in i["fields"]["labels"]]
        if rest == "/search/jql":
            assert self.cloud
            start = int(params.get("nextPageToken", "0"))
            page = matching[start : start + PAGE]
            more = start + PAGE < len(matching)
            body: dict[str, Any] = {"issues": page, "isLast": not more}
            if more:
                body["nextPageToken"] = str(start + PAGE)
            return httpx.Response(200, json=body)
        assert not self.cloud
        start = int(params.get("startAt", "0"))
        return httpx.Response(
            200,
            json={
                "startAt": start,
                "maxResults": PAGE,
                "total": len(matching),
                "issues": matching[start : start + PAGE],
            },
        )


# GitHub


@dataclass
class FakeGitHub:
    token: str
    repo: str = "acme/security"
    issues: list[dict[str, Any]] = field(default_factory=list)
    milestones: list[dict[str, Any]] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    requests: list[httpx.Request] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def close(self, number: int, by: str) -> None:
        issue = self.issues[number - 1]
        issue["state"], issue["state_reason"] = "closed", "completed"
        issue["closed_by"] = {"login": by}

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["x-github-api-version"] == "2022-11-28"
        if self.faults.rate_limit_once:  # a secondary rate limit, as GitHub documents it
            self.faults.rate_limit_once = False
            self.faults.rate_limited += 1
            return httpx.Response(
                403,
                headers={"retry-after": "3"},
                json={"message": "You have exceeded a secondary rate limit"},
            )
        if self.faults.auth_fails or request.headers.get("authorization") != f"Bearer {self.token}":
            return httpx.Response(401, json={"message": "Bad credentials"})
        base = f"/repos/{self.repo}"
        path = request.url.path
        assert path.startswith(base), path
        rest = path.removeprefix(base)
        if rest == "/issues" and request.method == "GET":
            params = request.url.params
            assert params["labels"] == "drillbook"
            assert params["state"] == "all"
            listed = [i for i in self.issues if "drillbook" in [lb["name"] for lb in i["labels"]]]
            return self._page(request, listed)
        if rest == "/issues" and request.method == "POST":
            body = json.loads(request.content)
            assert set(body) <= {"title", "body", "labels", "assignees", "milestone"}, body
            assert body["title"]
            assert body["body"]
            assert all(isinstance(lb, str) for lb in body["labels"])
            if "milestone" in body:
                assert any(m["number"] == body["milestone"] for m in self.milestones)
            number = len(self.issues) + 1
            issue = {
                "number": number,
                "html_url": f"https://github.com/{self.repo}/issues/{number}",
                "title": body["title"],
                "state": "open",
                "labels": [{"name": lb} for lb in body["labels"]],
                "assignees": [{"login": a} for a in body.get("assignees", [])],
                "milestone": self._milestone(body.get("milestone")),
                "closed_by": None,
            }
            self.issues.append(issue)
            return httpx.Response(201, json=issue)
        if rest == "/milestones" and request.method == "GET":
            assert request.url.params["state"] == "all"
            return self._page(request, self.milestones)
        if rest == "/milestones" and request.method == "POST":
            body = json.loads(request.content)
            assert re.fullmatch(r"due \d{4}-\d{2}-\d{2}", body["title"])
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T00:00:00Z", body["due_on"])
            milestone = {
                "number": len(self.milestones) + 1,
                "title": body["title"],
                "due_on": body["due_on"],
            }
            self.milestones.append(milestone)
            return httpx.Response(201, json=milestone)
        found = re.fullmatch(r"/issues/(\d+)", rest)
        assert found, f"{request.method} {path}"
        assert request.method == "PATCH", f"{request.method} {path}"
        issue = self.issues[int(found.group(1)) - 1]
        body = json.loads(request.content)
        assert set(body) <= {"state", "state_reason", "assignees", "milestone"}, body
        if "state" in body:
            assert body["state"] in ("open", "closed")
            assert body["state_reason"] in ("completed", "reopened", "not_planned")
            issue["state"] = body["state"]
        if "assignees" in body:
            issue["assignees"] = [{"login": a} for a in body["assignees"]]
        if "milestone" in body:
            issue["milestone"] = self._milestone(body["milestone"])
        return httpx.Response(200, json=issue)

    def _milestone(self, number: int | None) -> dict[str, Any] | None:
        return next((m for m in self.milestones if m["number"] == number), None)

    def _page(self, request: httpx.Request, items: list[dict[str, Any]]) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        chunk = items[(page - 1) * PAGE : page * PAGE]
        headers = {}
        if page * PAGE < len(items):
            following = request.url.copy_merge_params({"page": str(page + 1)})
            headers["link"] = f'<{following}>; rel="next"'
        return httpx.Response(200, json=chunk, headers=headers)


# Linear


@dataclass
class FakeLinear:
    token: str
    team: str = "team-uuid-1"
    issues: list[dict[str, Any]] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    requests: list[httpx.Request] = field(default_factory=list)
    states: tuple[tuple[str, str], ...] = (
        ("s-backlog", "backlog"),
        ("s-todo", "unstarted"),
        ("s-doing", "started"),
        ("s-done", "completed"),
        ("s-cancel", "canceled"),
    )

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def set_state(self, identifier: str, state_type: str, by: str) -> None:
        issue = next(i for i in self.issues if i["identifier"] == identifier)
        issue["state"] = {"type": state_type}
        issue["history"] = {"nodes": [{"actor": {"name": by}}]}

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        assert request.method == "POST"
        assert request.url.path == "/graphql"
        if self.faults.rate_limit_once:
            self.faults.rate_limit_once = False
            self.faults.rate_limited += 1
            return httpx.Response(429, headers={"Retry-After": "1"}, json={})
        if self.faults.auth_fails or request.headers.get("authorization") != self.token:
            return httpx.Response(
                400,
                json={
                    "errors": [
                        {
                            "message": "Authentication required, not authenticated",
                            "extensions": {"code": "AUTHENTICATION_ERROR"},
                        }
                    ]
                },
            )
        body = json.loads(request.content)
        query, variables = body["query"], body["variables"]
        if "query Marked" in query:
            assert variables["team"] == self.team
            assert variables["marker"] == "drillbook-F-"
            assert "pageInfo { hasNextPage endCursor }" in query
            matching = [i for i in self.issues if variables["marker"] in i["description"]]
            start = int(variables.get("after") or 0)
            page = matching[start : start + PAGE]
            more = start + PAGE < len(matching)
            return httpx.Response(
                200,
                json={
                    "data": {
                        "issues": {
                            "nodes": page,
                            "pageInfo": {
                                "hasNextPage": more,
                                "endCursor": str(start + PAGE) if more else None,
                            },
                        }
                    }
                },
            )
        if "query States" in query:
            assert variables["team"] == self.team
            return httpx.Response(
                200,
                json={
                    "data": {
                        "workflowStates": {
                            "nodes": [
                                {"id": sid, "name": stype.title(), "type": stype}
                                for sid, stype in self.states
                            ]
                        }
                    }
                },
            )
        if "mutation Create" in query:
            data = variables["input"]
            assert set(data) <= {
                "teamId",
                "title",
                "description",
                "priority",
                "dueDate",
                "assigneeId",
                "stateId",
            }, data
            assert data["teamId"] == self.team
            assert data["title"]
            assert data["priority"] in (1, 2, 3, 4)
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["dueDate"])
            number = len(self.issues) + 1
            state = next((t for sid, t in self.states if sid == data.get("stateId")), "unstarted")
            issue = {
                "id": f"uuid-{number}",
                "identifier": f"SEC-{number}",
                "url": f"https://linear.app/acme/issue/SEC-{number}",
                "description": data["description"],
                "dueDate": data["dueDate"],
                "state": {"type": state},
                "assignee": {"id": data["assigneeId"], "name": data["assigneeId"]}
                if data.get("assigneeId")
                else None,
                "history": {"nodes": []},
            }
            self.issues.append(issue)
            return httpx.Response(
                200, json={"data": {"issueCreate": {"success": True, "issue": issue}}}
            )
        assert "mutation Update" in query, query
        issue = next(i for i in self.issues if i["id"] == variables["id"])
        data = variables["input"]
        assert set(data) <= {"stateId", "assigneeId", "dueDate"}, data
        if "stateId" in data:
            issue["state"] = {"type": next(t for sid, t in self.states if sid == data["stateId"])}
        if "assigneeId" in data:
            issue["assignee"] = (
                {"id": data["assigneeId"], "name": data["assigneeId"]}
                if data["assigneeId"]
                else None
            )
        if "dueDate" in data:
            issue["dueDate"] = data["dueDate"]
        return httpx.Response(200, json={"data": {"issueUpdate": {"success": True}}})
