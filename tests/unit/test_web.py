"""The web app's pages render from the library and the store."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from drillbook.storage.engine import Store
from drillbook.web.app import create_app


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
    client = TestClient(create_app(_library(tmp_path), sqlite_store))
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
    client = TestClient(create_app(_library(tmp_path), sqlite_store))
    page = client.get("/scenarios/nope")
    assert page.status_code == 404
    assert "no scenario with id" in page.text


def test_api_lists_scenarios(tmp_path: Path, sqlite_store: Store) -> None:
    client = TestClient(create_app(_library(tmp_path), sqlite_store))
    ids = {row["id"] for row in client.get("/api/scenarios").json()}
    assert "scenario-2026-q2-001" in ids
