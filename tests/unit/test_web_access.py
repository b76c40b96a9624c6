"""Access rules: team scoping by id and in every list, roles, CSRF, invitations, audit."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from drillbook.storage.engine import Store
from tests.unit.test_web import _library, _running_exercise
from tests.web_helpers import BASE_URL, add_account, client_for, sign_in


def _seed_sre_records(store: Store) -> tuple[int, str, str]:
    """An exercise, a finding and a drill run of the SRE team."""
    from drillbook import clock
    from drillbook.domain.drill.models import DrillRun
    from drillbook.domain.finding.service import create_finding

    exercise_id = _running_exercise(store, None)
    with store.session() as session:
        finding = create_finding(
            session,
            description="SRE-ONLY pager gap",
            severity="high",
            source="exercise",
            team="sre-team",
        )
        session.add(
            DrillRun(
                id="abcdef0123456789abcdef0123456789",
                plan_name="sre-only-drill",
                plan_path="drills/x.yaml",
                target="local",
                status="completed",
                started_at=clock.now(),
                runner_host="h",
                operator="o",
                safety={},
                team="sre-team",
            )
        )
        return exercise_id, finding.id, "abcdef0123456789abcdef0123456789"


def test_another_team_sees_nothing_by_id_or_in_any_list(
    tmp_path: Path, sqlite_store: Store
) -> None:
    exercise_id, finding_id, drill_id = _seed_sre_records(sqlite_store)
    library = _library(tmp_path)
    sre, _ = client_for(library, sqlite_store, "alice", "member", "sre-team")
    other, csrf = client_for(library, sqlite_store, "bob", "facilitator", "payments")
    # the owning team sees all three
    assert sre.get(f"/exercises/{exercise_id}").status_code == 200
    assert any(f["id"] == finding_id for f in sre.get("/api/findings").json())
    assert sre.get(f"/api/drills/{drill_id}").status_code == 200
    # another team: by id, 404 like a record that does not exist
    for path in (
        f"/exercises/{exercise_id}",
        f"/api/exercises/{exercise_id}",
        f"/api/exercises/{exercise_id}/status",
        f"/exercises/{exercise_id}/stream",
        f"/exercises/{exercise_id}/report.md",
        f"/drills/{drill_id}",
        f"/api/drills/{drill_id}",
        f"/drills/{drill_id[:8]}",
    ):
        response = other.get(path)
        assert response.status_code == 404, path
        assert "Quarantine" not in response.text
        assert "sre-only" not in response.text
    # ... and in every list
    for path in (
        "/",
        "/exercises",
        "/findings",
        "/findings?show=all",
        "/drills",
        "/api/exercises",
        "/api/findings",
        "/api/findings?show=all",
        "/api/drills",
    ):
        body = other.get(path).text
        assert "SRE-ONLY" not in body, path
        assert "sre-only-drill" not in body, path
        assert f"EX-{exercise_id}" not in body, path
        assert f'href="/exercises/{exercise_id}"' not in body, path
    # ... and cannot change anything in it
    for action, body in (
        ("inject", {}),
        ("decisions", {"text": "x"}),
        ("pause", {}),
        ("observations", {"text": "x"}),
        ("invitations", {"seat": "observer", "name": "Eve"}),
    ):
        response = other.post(
            f"/api/exercises/{exercise_id}/{action}", json=body, headers={"X-CSRF-Token": csrf}
        )
        assert response.status_code == 404, action


def test_roles_limit_what_an_account_may_do(tmp_path: Path, sqlite_store: Store) -> None:
    exercise_id = _running_exercise(sqlite_store, None)
    library = _library(tmp_path)
    viewer, viewer_csrf = client_for(library, sqlite_store, "vera", "viewer", "sre-team")
    member, member_csrf = client_for(library, sqlite_store, "mia", "member", "sre-team")
    decision = {"text": "Rotate the MCP token"}
    refused = viewer.post(
        f"/api/exercises/{exercise_id}/decisions",
        json=decision,
        headers={"X-CSRF-Token": viewer_csrf},
    )
    assert refused.status_code == 403
    assert refused.json()["status"] == 403
    ok = member.post(
        f"/api/exercises/{exercise_id}/decisions",
        json=decision,
        headers={"X-CSRF-Token": member_csrf},
    )
    assert ok.status_code == 200
    for action in ("inject", "pause", "end", "phase"):
        response = member.post(
            f"/api/exercises/{exercise_id}/{action}", json={}, headers={"X-CSRF-Token": member_csrf}
        )
        assert response.status_code == 403, action
    assert member.get("/api/audit").status_code == 403
    # the member's view has no script and no preview of the next inject
    view = member.get(f"/api/exercises/{exercise_id}").json()
    assert view["script"] == []
    assert view["next_inject_preview"] is None


def test_every_state_change_needs_the_csrf_token(tmp_path: Path, sqlite_store: Store) -> None:
    exercise_id = _running_exercise(sqlite_store, None)
    client, csrf = client_for(_library(tmp_path), sqlite_store, "olga")
    routes = []
    for route in client.app.routes:  # type: ignore[attr-defined]
        included = getattr(route, "original_router", None)  # FastAPI's included routers
        routes.extend(included.routes if included is not None else [route])
    unsafe = [
        (path, method)
        for route in routes
        for method in getattr(route, "methods", set()) or set()
        if method in {"POST", "PUT", "PATCH", "DELETE"}
        for path in [
            route.path.replace("{exercise_id}", str(exercise_id)).replace("{event_id}", "1")
        ]
    ]
    assert len(unsafe) >= 12
    from drillbook.web.security import BEARER_ONLY_PATHS

    for path, method in unsafe:
        if path in BEARER_ONLY_PATHS:
            # the MCP endpoint takes API tokens only: a signed-in browser's cookie (even
            # with its CSRF token) does not get in
            response = client.request(method, path, json={}, headers={"X-CSRF-Token": csrf})
            assert response.status_code == 401, (path, method)
            continue
        for headers in ({}, {"X-CSRF-Token": "wrong" + csrf}):
            response = client.request(method, path, json={"text": "x"}, headers=headers)
            assert response.status_code == 403, (path, headers)
            assert "CSRF" in response.json()["error"]
        form = client.request(method, path, data={"text": "x"})
        assert form.status_code == 403, path
    # nothing was logged by all those attempts
    from drillbook.domain.exercise.service import get_exercise

    with sqlite_store.session() as session:
        assert all(e.text != "x" for e in get_exercise(session, exercise_id).events)


def test_wrong_password_and_no_session(tmp_path: Path, sqlite_store: Store) -> None:
    library = _library(tmp_path)
    add_account(sqlite_store, "olga", "admin")
    client = TestClient(
        __import__("drillbook.web.app", fromlist=["x"]).create_app(library, sqlite_store),
        base_url=BASE_URL,
    )
    assert client.get("/api/findings").status_code == 401
    assert client.get("/findings", follow_redirects=False).headers["location"] == "/login"
    page = client.get("/login").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    wrong = client.post(
        "/login", data={"username": "olga", "password": "nope-nope-nope", "csrf_token": token}
    )
    assert wrong.status_code == 403
    assert "wrong username or password" in wrong.text
    sign_in(client, "olga")
    assert client.get("/api/me").json()["role"] == "admin"


def test_invitation_for_one_seat_expires_when_the_exercise_ends(
    tmp_path: Path, sqlite_store: Store
) -> None:
    exercise_id = _running_exercise(sqlite_store, None)
    other_id = _running_exercise(sqlite_store, None)
    library = _library(tmp_path)
    facilitator, csrf = client_for(library, sqlite_store, "fred", "facilitator", "sre-team")
    made = facilitator.post(
        f"/api/exercises/{exercise_id}/invitations",
        json={"seat": "comms_lead", "name": "Carol"},
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status_code == 200
    link = made.json()["link"]
    guest = TestClient(facilitator.app, base_url=BASE_URL)
    joined = guest.get(link)
    assert joined.status_code == 200
    assert joined.url.path == f"/exercises/{exercise_id}"
    guest_csrf = joined.text.split('name="csrf-token" content="')[1].split('"')[0]
    said = guest.post(
        f"/api/exercises/{exercise_id}/decisions",
        json={"text": "Tell customers"},
        headers={"X-CSRF-Token": guest_csrf},
    )
    assert said.status_code == 200
    assert (
        guest.post(
            f"/api/exercises/{exercise_id}/comms",
            json={"audience": "customer", "text": "We are investigating"},
            headers={"X-CSRF-Token": guest_csrf},
        ).status_code
        == 200
    )
    # one exercise only; no lists, no other exercise, no facilitating, no observer notes
    assert guest.get(f"/exercises/{other_id}").status_code == 404
    assert guest.get("/api/findings").status_code == 403
    assert (
        guest.post(
            f"/api/exercises/{exercise_id}/pause", headers={"X-CSRF-Token": guest_csrf}
        ).status_code
        == 403
    )
    assert (
        guest.post(
            f"/api/exercises/{exercise_id}/observations",
            json={"text": "x"},
            headers={"X-CSRF-Token": guest_csrf},
        ).status_code
        == 403
    )
    seats = facilitator.get(f"/api/exercises/{exercise_id}").json()["roles"]
    assert {"role": "comms_lead", "role_label": "Comms lead", "person": "Carol"} in seats
    ended = facilitator.post(f"/api/exercises/{exercise_id}/end", headers={"X-CSRF-Token": csrf})
    assert ended.status_code == 200
    # the guest's session and the link both stop working
    assert guest.get(f"/api/exercises/{exercise_id}").status_code == 401
    again = TestClient(facilitator.app, base_url=BASE_URL).get(link)
    assert again.status_code == 403
    assert "expired" in again.text
    assert (
        TestClient(facilitator.app, base_url=BASE_URL).get("/join/not-a-token").status_code == 403
    )


def test_web_changes_are_in_an_append_only_audit_log(tmp_path: Path, store: Store) -> None:
    """On SQLite and on PostgreSQL: the log refuses UPDATE and DELETE (triggers)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    exercise_id = _running_exercise(store, None)
    client, csrf = client_for(_library(tmp_path), store, "olga")
    client.post(
        f"/api/exercises/{exercise_id}/decisions",
        json={"text": "Page the owner"},
        headers={"X-CSRF-Token": csrf, "User-Agent": "pytest-agent"},
    )
    entries = client.get("/api/audit").json()
    decision = next(e for e in entries if e["action"] == "decision")
    assert decision["actor"] == "olga"
    assert decision["target"] == f"EX-{exercise_id}"
    assert decision["remote"]
    assert decision["detail"]["user_agent"] == "pytest-agent"
    assert any(e["action"] == "sign_in" for e in entries)
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"), store.engine.begin() as c:
            c.execute(text(statement))
