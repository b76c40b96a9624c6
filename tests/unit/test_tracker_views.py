"""Tracker keys in the exercise report and tracker links with overdue state on the web
findings board (a hostile URL from a tracker's answer is never made a link)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from drillbook.clock import FakeClock
from drillbook.domain.exercise import service as exercises
from drillbook.domain.finding import service
from drillbook.domain.finding.tracking import TrackerLink
from drillbook.flows.exercise_report import build_report
from drillbook.library.loader import load_scenario_file
from drillbook.reports.render import render_html, render_markdown
from drillbook.storage.engine import Store
from tests.helpers import SEED
from tests.web_helpers import client_for


def _link(finding_id: str, key: str, url: str, fake_clock: FakeClock) -> TrackerLink:
    return TrackerLink(
        finding_id=finding_id,
        tracker="jira",
        kind="jira",
        key=key,
        url=url,
        remote_id="1",
        synced_state="todo",
        synced_owner=None,
        synced_due=None,
        synced_at=fake_clock.now(),
    )


def test_report_lists_tracker_keys(sqlite_store: Store, fake_clock: FakeClock) -> None:
    scenario = load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    with sqlite_store.session() as session:
        exercise = exercises.create_exercise(session, scenario=scenario, assignments={})
        exercises.start(session, exercise)
        exercises.end(session, exercise)
        linked = service.create_finding(
            session, description="No runbook", severity="high", source="exercise",
            exercise_id=exercise.id,
        )  # fmt: skip
        service.create_finding(
            session, description="No rotation", severity="low", source="exercise",
            exercise_id=exercise.id,
        )  # fmt: skip
        session.add(
            _link(linked.id, "SEC-41", "https://acme.atlassian.net/browse/SEC-41", fake_clock)
        )
        session.flush()
        report = build_report(session, exercise, None)
    assert report.tracker_keys == {linked.id: ["SEC-41"]}
    text = render_markdown(report)
    assert f"| {linked.id} (SEC-41) | high | No runbook |" in text
    assert "| F-002 | low | No rotation |" in text
    assert f"<td>{linked.id} (SEC-41)</td>" in render_html(report)


def test_board_shows_tracker_links_and_overdue(
    tmp_path: Path, sqlite_store: Store, fake_clock: FakeClock
) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    (root / "drillbook.yaml").write_text("organisation: Acme\n", encoding="utf-8")
    with sqlite_store.session() as session:
        good = service.create_finding(session, description="a", severity="critical", source="drill")
        bad = service.create_finding(session, description="b", severity="low", source="drill")
        session.add(_link(good.id, "SEC-1", "https://acme.atlassian.net/browse/SEC-1", fake_clock))
        session.add(_link(bad.id, "SEC-2<script>", "javascript:alert(1)", fake_clock))
    fake_clock.advance(timedelta(days=8))  # the critical one is past its 7-day SLA
    client, _ = client_for(root, sqlite_store, "alice", role="admin")
    page = client.get("/findings")
    assert page.status_code == 200
    assert (
        '<a href="https://acme.atlassian.net/browse/SEC-1" rel="noopener noreferrer">SEC-1</a>'
        in page.text
    )
    assert "javascript:" not in page.text
    assert "SEC-2&lt;script&gt;" in page.text
    assert "(overdue)" in page.text
    api = client.get("/api/findings").json()
    by_id = {row["id"]: row for row in api}
    assert by_id[good.id]["trackers"] == [
        {"tracker": "jira", "key": "SEC-1", "url": "https://acme.atlassian.net/browse/SEC-1"}
    ]
    assert by_id[bad.id]["trackers"][0]["url"] is None
    assert by_id[good.id]["overdue"] is True
