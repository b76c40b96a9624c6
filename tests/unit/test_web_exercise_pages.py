"""The exercises list a page at a time: newest first, team-scoped in SQL, by cursor, and a
hostile cursor or limit is a 400 that echoes nothing as markup."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert

from drillbook.domain.exercise.models import Exercise
from drillbook.storage.engine import Store
from tests.unit.test_web import _library
from tests.web_helpers import client_for, walk_api_pages

TEAMS = ["sre-team", "payments", None]


def _seed(store: Store, count: int = 23) -> dict[int, str | None]:
    """``count`` exercises of three scopes (a team, another team, organisation-wide);
    titles carry markup, as a user may type it."""
    rows = []
    for number in range(1, count + 1):
        team = TEAMS[number % 3]
        rows.append(
            {
                "id": number,
                "scenario_id": "scenario-x",
                "title": f"<b>run {number}</b> of {team or 'everyone'}",
                "team": team,
                "status": ("planned", "running", "reported")[number % 3],
                "run_date": date(2026, 1, 1) + timedelta(days=number),
                "created_at": datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=number),
                "participants": [],
                "next_actions": [],
            }
        )
    with store.engine.begin() as connection:
        connection.execute(insert(Exercise.__table__), rows)
    return {row["id"]: row["team"] for row in rows}


def _walk(client: object, first: str) -> tuple[list[int], int]:
    url, seen, pages = first, [], 0
    while url:
        page = client.get(url.replace("&amp;", "&"))  # type: ignore[attr-defined]
        assert page.status_code == 200, page.text
        assert "<b>run" not in page.text  # titles are escaped
        seen += [int(n) for n in re.findall(r'<a href="/exercises/(\d+)">EX-', page.text)]
        pages += 1
        found = re.search(r'rel="next" href="([^"]+)"', page.text)
        url = found.group(1) if found else ""
    return seen, pages


@pytest.mark.parametrize(
    ("username", "role", "team"),
    [("olga", "admin", None), ("al", "member", "sre-team"), ("pat", "member", "payments")],
)
def test_pages_cover_what_the_viewer_may_see_newest_first(
    tmp_path: Path, store: Store, username: str, role: str, team: str | None
) -> None:
    teams = _seed(store)
    client, _ = client_for(_library(tmp_path), store, username, role, team)
    seen, pages = _walk(client, "/exercises?limit=4")
    if role == "admin":
        expected = sorted(teams, reverse=True)
    else:
        expected = sorted((n for n, t in teams.items() if t is None or t == team), reverse=True)
    assert seen == expected
    assert pages == -(-len(expected) // 4)
    first = client.get("/exercises?limit=4").text
    assert f"shown of {len(expected)}" in first


def test_the_default_page_is_short_and_the_next_one_follows(tmp_path: Path, store: Store) -> None:
    _seed(store, 230)
    client, _ = client_for(_library(tmp_path), store, "olga", "admin")
    seen, pages = _walk(client, "/exercises")
    assert seen == list(range(230, 0, -1))
    assert pages == 3  # 100 a page


@pytest.mark.parametrize(
    "query",
    [
        "cursor=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
        "cursor=EX-1%20OR%201%3D1",
        "cursor=99999999999999999999",
        "cursor=EX-%C2%B2",
        "limit=0",
        "limit=1001",
        "limit=-5",
        "limit=%3Cb%3E",
    ],
)
def test_hostile_cursors_and_limits_are_refused_plainly(
    tmp_path: Path, store: Store, query: str
) -> None:
    _seed(store, 5)
    client, _ = client_for(_library(tmp_path), store, "olga", "admin")
    response = client.get(f"/exercises?{query}")
    assert response.status_code in (400, 422), response.text
    assert "<script>" not in response.text
    assert "<b>" not in response.text


def test_the_api_pages_by_cursor_in_id_order(tmp_path: Path, store: Store) -> None:
    teams = _seed(store, 11)
    client, _ = client_for(_library(tmp_path), store, "al", "member", "sre-team")
    mine = sorted(n for n, t in teams.items() if t in (None, "sre-team"))
    everything = [e["id"] for e in client.get("/api/exercises").json()]
    assert everything == mine
    seen = [e["id"] for e in walk_api_pages(client, "/api/exercises", 2)]
    assert seen == everything
    bad = client.get("/api/exercises?cursor=%3Cscript%3E", headers={"accept": "application/json"})
    assert bad.status_code == 400
    assert "is not an exercise id" in bad.text
    assert client.get("/api/exercises?limit=0").status_code == 400
