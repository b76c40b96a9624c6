"""The web app shows a real drill: what ran, and whether its detection fired."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.detection.config import library_detection_config
from drillbook.flows.drill_check import check_drill
from drillbook.flows.drill_run import run_drill
from drillbook.storage.engine import Store
from tests.helpers import require
from tests.web_helpers import client_for

pytestmark = [pytest.mark.strace, pytest.mark.slow]


def test_drill_pages_show_the_scorecard(tmp_path: Path) -> None:
    require(shutil.which("strace") is not None, "strace is not installed")
    library = tmp_path / "lib"
    assert CliRunner().invoke(app, ["init", str(library)]).exit_code == 0
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    run_id = run_drill(store, library / "drills" / "host-discovery.yaml", library=library)
    with store.session() as session:
        check_drill(
            session,
            run_id,
            config=library_detection_config(library),
            library_root=library,
            wait=False,
        )
    client, _ = client_for(library, store, "olga")
    listing = client.get("/drills")
    assert "host-discovery" in listing.text
    assert "1 / 2" in listing.text  # uname fires the starter rule, id does not
    assert "failed" in listing.text
    page = client.get(f"/drills/{run_id}")
    assert page.status_code == 200
    assert "Full system information requested with uname" in page.text
    assert "not fired" in page.text
    assert "F-001" in page.text
    detail = client.get(f"/api/drills/{run_id[:8]}").json()
    assert [t["technique"] for t in detail["techniques_detail"]] == ["T1082", "T1033"]
    assert client.get("/drills/nonexistent").status_code == 404
    store.close()
