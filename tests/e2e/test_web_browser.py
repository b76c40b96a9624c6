"""The web app in a real browser: what a facilitator or an executive sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drillbook.storage.engine import Store
from tests.e2e.conftest import LiveServer, sign_in_page
from tests.unit.test_web import _library
from tests.web_helpers import PASSWORD, add_account

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_browse_from_overview_to_a_scenario(
    tmp_path: Path, sqlite_store: Store, chromium: Any
) -> None:
    add_account(sqlite_store, "olga", "admin")
    with LiveServer(_library(tmp_path), sqlite_store) as server:
        page = chromium.new_page()
        sign_in_page(page, server.url, "olga", PASSWORD)
        assert "Example Corp" in page.inner_text("h1")
        page.click("text=Scenarios")
        page.click("text=Data exfiltration via compromised MCP server")
        assert "Anomalous bytes-out" in page.inner_text("main")
        page.screenshot(path=str(tmp_path / "scenario.png"), full_page=True)
        assert (tmp_path / "scenario.png").stat().st_size > 1000


def test_live_view_follows_what_the_terminal_logs(
    tmp_path: Path, sqlite_store: Store, chromium: Any
) -> None:
    """A decision logged elsewhere (the observer's terminal) appears in an open browser
    without a reload, and the clock ticks."""
    from drillbook.domain.exercise import service
    from drillbook.domain.exercise.enums import EventKind
    from tests.unit.test_web import _running_exercise

    exercise_id = _running_exercise(sqlite_store, None)
    add_account(sqlite_store, "olga", "admin")
    with LiveServer(_library(tmp_path), sqlite_store) as server:
        page = chromium.new_page()
        sign_in_page(page, server.url, "olga", PASSWORD)
        page.goto(f"{server.url}/exercises/{exercise_id}")
        first = page.inner_text("#clock")
        with sqlite_store.session() as session:
            exercise = service.get_exercise(session, exercise_id)
            service.record(
                session,
                exercise,
                EventKind.DECISION,
                "Quarantine payments-mcp-server",
                author="alice",
            )
        page.wait_for_selector("text=Quarantine payments-mcp-server", timeout=10_000)
        page.wait_for_function(
            "first => document.getElementById('clock').textContent !== first",
            arg=first,
            timeout=10_000,
        )
        page.screenshot(path=str(tmp_path / "live.png"), full_page=True)
