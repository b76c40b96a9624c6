"""The web app's pages render from the library and the store."""

from __future__ import annotations

from pathlib import Path

from drillbook.storage.engine import Store
from tests.web_helpers import client_for


def _library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    (root / "scenarios").mkdir(parents=True)
    (root / "drillbook.yaml").write_text(
        "organisation: Example Corp\nteams:\n  - id: sre-team\n    name: SRE\n    channel: '#sre'\n"
    )
    seed = Path(__file__).parents[1] / "files" / "seed" / "scenarios" / "data-exfil-via-mcp.yaml"
    (root / "scenarios" / "data-exfil-via-mcp.yaml").write_text(seed.read_text())
    return root


def test_overview_and_scenarios(tmp_path: Path, sqlite_store: Store) -> None:
    client, _ = client_for(_library(tmp_path), sqlite_store, "olga")
    page = client.get("/")
    assert page.status_code == 200
    assert "Example Corp" in page.text
    listing = client.get("/scenarios")
    assert "Data exfiltration via compromised MCP server" in listing.text
    detail = client.get("/scenarios/scenario-2026-q2-001")
    assert detail.status_code == 200
    assert "Anomalous bytes-out" in detail.text
    assert "by T+5m" in detail.text


def test_unknown_scenario_is_a_readable_404(tmp_path: Path, sqlite_store: Store) -> None:
    client, _ = client_for(_library(tmp_path), sqlite_store, "olga")
    page = client.get("/scenarios/nope")
    assert page.status_code == 404
    assert "no scenario with id" in page.text


def test_api_lists_scenarios(tmp_path: Path, sqlite_store: Store) -> None:
    client, _ = client_for(_library(tmp_path), sqlite_store, "olga")
    ids = {row["id"] for row in client.get("/api/scenarios").json()}
    assert "scenario-2026-q2-001" in ids


def _running_exercise(store: Store, clock_fixture: object) -> int:
    from drillbook.domain.exercise import service
    from drillbook.domain.exercise.enums import EventKind
    from drillbook.library.loader import load_scenario_file

    seed = Path(__file__).parents[1] / "files" / "seed" / "scenarios" / "data-exfil-via-mcp.yaml"
    scenario = load_scenario_file(seed).scenario
    with store.session() as session:
        exercise = service.create_exercise(
            session, scenario=scenario, team="sre-team", assignments={"incident_commander": "alice"}
        )
        service.start(session, exercise, author="olga")
        service.drop_inject(session, exercise, author="olga")
        service.record(session, exercise, EventKind.DECISION, "Page the MCP owner", author="alice")
        return exercise.id


def test_live_exercise_view_shows_clock_phase_and_criteria(
    tmp_path: Path, sqlite_store: Store, fake_clock: object
) -> None:
    from drillbook import clock

    exercise_id = _running_exercise(sqlite_store, fake_clock)
    assert isinstance(fake_clock, clock.FakeClock)
    fake_clock.advance(125)
    client, _ = client_for(_library(tmp_path), sqlite_store, "olga")
    page = client.get(f"/exercises/{exercise_id}")
    assert page.status_code == 200
    assert "T+02:05" in page.text
    assert "Detection" in page.text
    assert "Page the MCP owner" in page.text
    state = client.get(f"/api/exercises/{exercise_id}").json()
    assert state["running"] is True
    assert state["elapsed_seconds"] == 125
    met = {c["text"]: c["state"] for c in state["criteria"]}
    # nothing is missed before its deadline, and nothing met without tagged evidence
    assert set(met.values()) == {"pending"}
    assert state["next_inject_at"] == "15m"
    assert state["audience"] == "facilitator"
    assert state["next_inject_preview"]
    overview = client.get("/")
    assert "is live" in overview.text


def test_unknown_exercise_is_a_404(tmp_path: Path, sqlite_store: Store) -> None:
    client, _ = client_for(_library(tmp_path), sqlite_store, "olga")
    assert client.get("/exercises/99").status_code == 404
    assert client.get("/api/exercises/99").json() == {
        "error": "no exercise EX-99 (see `drillbook exercise list`)",
        "status": 404,
    }


def test_findings_backlog_lists_open_findings(
    tmp_path: Path, sqlite_store: Store, fake_clock: object
) -> None:
    from drillbook.domain.finding.service import create_finding

    with sqlite_store.session() as session:
        create_finding(
            session,
            description="No IC rotation",
            severity="high",
            source="exercise",
            owner="sre-team",
        )
    client, _ = client_for(_library(tmp_path), sqlite_store, "olga")
    page = client.get("/findings")
    assert "No IC rotation" in page.text
    assert "F-001" in page.text
    assert client.get("/api/findings").json()[0]["owner"] == "sre-team"
