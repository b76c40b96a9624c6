"""The findings board and /api/findings a page at a time, team-scoped, by cursor."""

from __future__ import annotations

import re
from pathlib import Path

from drillbook.storage.engine import Store
from tests.unit.test_web import _library
from tests.web_helpers import client_for, walk_api_pages

SEVERITIES = ["low", "critical", "medium", "high", "critical", "low", "high"]


def _seed(store: Store) -> dict[str, str]:
    """Seven SRE findings and two of the payments team; id -> severity of the SRE ones."""
    from drillbook.domain.finding.service import create_finding

    mine: dict[str, str] = {}
    with store.session() as session:
        for number, severity in enumerate(SEVERITIES):
            made = create_finding(
                session,
                description=f"sre gap {number}",
                severity=severity,
                source="drill",
                team="sre-team",
            )
            mine[made.id] = severity
            create_finding(
                session,
                description=f"PAYMENTS-ONLY {number}",
                severity="critical",
                source="drill",
                team="payments",
            ) if number < 2 else None
    return mine


def _ids(html: str) -> list[str]:
    return re.findall(r"<tr>\s*<td>(F-\d+)", html)


def test_the_board_pages_worst_first_within_the_team(tmp_path: Path, store: Store) -> None:
    mine = _seed(store)
    client, _ = client_for(_library(tmp_path), store, "alice", "member", "sre-team")
    url, seen, pages = "/findings?limit=3", [], 0
    while url:
        page = client.get(url.replace("&amp;", "&"))
        assert page.status_code == 200
        assert "PAYMENTS-ONLY" not in page.text
        assert f"shown of {len(mine)}" in page.text
        seen += _ids(page.text)
        pages += 1
        found = re.search(r'rel="next" href="([^"]+)"', page.text)
        url = found.group(1) if found else ""
    assert pages == 3
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    expected = sorted(mine, key=lambda i: (order[mine[i]], int(i[2:])))
    assert seen == expected


def test_the_api_pages_by_cursor_in_id_order(tmp_path: Path, store: Store) -> None:
    mine = _seed(store)
    client, _ = client_for(_library(tmp_path), store, "alice", "member", "sre-team")
    everything = [f["id"] for f in client.get("/api/findings").json()]
    assert everything == sorted(mine, key=lambda i: int(i[2:]))
    seen = [f["id"] for f in walk_api_pages(client, "/api/findings", 2)]
    assert seen == everything


def test_bad_cursors_and_limits_say_what_to_do(tmp_path: Path, store: Store) -> None:
    _seed(store)
    client, _ = client_for(_library(tmp_path), store, "alice", "member", "sre-team")
    theirs = "F-002"  # the first payments finding: not on this viewer's board
    response = client.get(f"/findings?cursor={theirs}")
    assert response.status_code == 400
    assert "names no finding on this board" in response.text
    assert "PAYMENTS-ONLY" not in response.text
    response = client.get("/api/findings?cursor=nonsense", headers={"accept": "application/json"})
    assert response.status_code == 400
    assert "is not a finding id" in response.text
    assert client.get("/api/findings?limit=0").status_code == 400
