"""The abort a running drill's page offers: anyone who can see the drill may pull it,
with a reason; the runner reads it from the store as it does a terminal's."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from drillbook.domain.account.models import AuditEntry
from drillbook.domain.drill.models import DrillRun
from drillbook.flows.drill_abort import pending_abort
from drillbook.storage.engine import Store
from tests.web_helpers import add_account, client_for, sign_in

RUN_ID = "a1b2c3d4e5f60718293a4b5c6d7e8f90"


def _running(store: Store, team: str | None = "payments", status: str = "running") -> None:
    with store.session() as session:
        session.add(
            DrillRun(
                id=RUN_ID,
                plan_name="host-discovery",
                plan_path="drills/host-discovery.yaml",
                team=team,
                target="local",
                status=status,
                started_at=datetime(2026, 11, 30, 9, tzinfo=UTC),
                ended_at=None,
                runner_pid=4242,
                runner_host="runner",
                operator="olga",
                safety={},
                abort_reason=None,
            )
        )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'db.sqlite'}")


def test_a_viewer_of_the_team_pulls_the_abort_with_what_they_saw(store: Store) -> None:
    _running(store)
    client, csrf = client_for(None, store, "vic", role="viewer", team="payments")
    page = client.get(f"/drills/{RUN_ID[:10]}")
    assert "Abort the drill" in page.text
    hostile = "<script>alert(1)</script> disk  filling\nfast"
    done = client.post(
        f"/drills/{RUN_ID[:10]}/abort",
        data={"why": hostile, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/drills/{RUN_ID}"
    reason = pending_abort(store, RUN_ID)
    assert reason == (
        "aborted by vic from the web app: <script>alert(1)</script> disk filling fast"
    )
    with store.session() as session:
        (entry,) = session.scalars(select(AuditEntry).where(AuditEntry.action == "drill_abort"))
        assert (entry.actor, entry.target) == ("vic", RUN_ID)


def test_the_abort_needs_the_csrf_token_a_reason_and_a_running_drill(store: Store) -> None:
    _running(store)
    client, csrf = client_for(None, store, "vic", role="viewer", team="payments")
    forged = client.post(f"/drills/{RUN_ID}/abort", data={"why": "x"}, follow_redirects=False)
    assert forged.status_code == 403
    blank = client.post(f"/drills/{RUN_ID}/abort", data={"why": "  ", "csrf_token": csrf})
    assert blank.status_code == 400
    assert "reason is required" in blank.text
    assert pending_abort(store, RUN_ID) is None
    with store.session() as session:
        session.get(DrillRun, RUN_ID).status = "completed"  # type: ignore[union-attr]
    ended = client.post(f"/drills/{RUN_ID}/abort", data={"why": "late", "csrf_token": csrf})
    assert ended.status_code == 400
    assert "not running" in ended.text
    assert "Abort the drill" not in client.get(f"/drills/{RUN_ID}").text


def test_another_teams_drill_cannot_be_aborted_or_seen(store: Store) -> None:
    _running(store, team="identity")
    client, csrf = client_for(None, store, "vic", role="viewer", team="payments")
    refused = client.post(f"/drills/{RUN_ID}/abort", data={"why": "x", "csrf_token": csrf})
    assert refused.status_code in (403, 404)
    assert pending_abort(store, RUN_ID) is None
    add_account(store, "ida", "viewer", "identity")
    own_csrf = sign_in(client, "ida")  # someone of the drill's own team may
    assert "Abort the drill" in client.get(f"/drills/{RUN_ID}").text
    pulled = client.post(
        f"/drills/{RUN_ID}/abort",
        data={"why": "alerts paging", "csrf_token": own_csrf},
        follow_redirects=False,
    )
    assert pulled.status_code == 303
    assert pending_abort(store, RUN_ID) == "aborted by ida from the web app: alerts paging"


@pytest.mark.parametrize(
    "odd", ["..%2F..%2Fetc", "%00", "a" * 400, "'%20OR%201=1--", "%3Cscript%3E"]
)
def test_odd_drill_ids_in_the_abort_url_are_refused(store: Store, odd: str) -> None:
    _running(store)
    client, csrf = client_for(None, store, "vic", role="viewer", team="payments")
    done = client.post(f"/drills/{odd}/abort", data={"why": "x", "csrf_token": csrf})
    assert done.status_code in (400, 404, 422)
    assert "<script>" not in done.text
    assert pending_abort(store, RUN_ID) is None
