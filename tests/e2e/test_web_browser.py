"""The web app in a real browser: what a facilitator or an executive sees."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from drillbook.storage.engine import Store
from tests.e2e.conftest import LiveServer
from tests.unit.test_web import _library

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_browse_from_overview_to_a_scenario(tmp_path: Path, sqlite_store: Store,
                                             chromium: Any) -> None:
    with LiveServer(_library(tmp_path), sqlite_store) as server:
        page = chromium.new_page()
        page.goto(server.url + "/")
        assert "Example Corp" in page.inner_text("h1")
        page.click("text=Scenarios")
        page.click("text=Data exfiltration via compromised MCP server")
        assert "Anomalous bytes-out" in page.inner_text("main")
        page.screenshot(path=str(tmp_path / "scenario.png"), full_page=True)
        assert (tmp_path / "scenario.png").stat().st_size > 1000
