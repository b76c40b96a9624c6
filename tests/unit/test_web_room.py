"""The exercise room through the JSON API: facilitator, participant, comms lead, observer."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from drillbook.storage.engine import Store
from tests.unit.test_web import _library
from tests.web_helpers import BASE_URL, client_for


def _guest(app: object, link: str) -> tuple[TestClient, str]:
    guest = TestClient(app, base_url=BASE_URL)  # type: ignore[arg-type]
    page = guest.get(link)
    assert page.status_code == 200
    return guest, page.text.split('name="csrf-token" content="')[1].split('"')[0]


def test_a_whole_exercise_through_the_api(tmp_path: Path, sqlite_store: Store) -> None:
    facilitator, csrf = client_for(
        _library(tmp_path), sqlite_store, "fred", "facilitator", "sre-team"
    )
    f_headers = {"X-CSRF-Token": csrf}
    started = facilitator.post(
        "/api/exercises",
        json={"scenario": "scenario-2026-q2-001", "seats": {"incident_commander": "Alice"}},
        headers=f_headers,
    )
    assert started.status_code == 200, started.text
    exercise_id = started.json()["exercise_id"]
    base = f"/api/exercises/{exercise_id}"

    def invite(seat: str, name: str) -> tuple[TestClient, dict[str, str]]:
        link = facilitator.post(
            f"{base}/invitations", json={"seat": seat, "name": name}, headers=f_headers
        ).json()["link"]
        client, token = _guest(facilitator.app, link)
        return client, {"X-CSRF-Token": token}

    observer, o_headers = invite("observer", "Olivia")
    comms, c_headers = invite("comms_lead", "Carl")

    view = facilitator.get(base).json()
    assert view["status"] == "running"
    assert view["team"] == "sre-team"
    preview = view["next_inject_preview"]
    assert preview
    assert view["script"][0]["dropped"] is False
    assert comms.get(base).json()["next_inject_preview"] is None
    assert preview not in comms.get(f"/exercises/{exercise_id}").text

    assert facilitator.post(f"{base}/inject", json={}, headers=f_headers).status_code == 200
    assert (
        facilitator.post(
            f"{base}/inject", json={"text": "Reporter calls <b>now</b>"}, headers=f_headers
        ).status_code
        == 200
    )
    assert facilitator.post(f"{base}/phase", json={}, headers=f_headers).status_code == 200
    assert facilitator.post(f"{base}/pause", headers=f_headers).json()["ok"]
    assert comms.get(base).json()["paused"] is True
    assert facilitator.post(f"{base}/resume", headers=f_headers).status_code == 200

    assert (
        comms.post(
            f"{base}/decisions", json={"text": "Hold the statement"}, headers=c_headers
        ).status_code
        == 200
    )
    assert (
        comms.post(
            f"{base}/comms",
            json={"audience": "internal", "text": "All hands at 3"},
            headers=c_headers,
        ).status_code
        == 200
    )
    note = observer.post(
        f"{base}/observations", json={"text": "Nobody owned the SLA clock"}, headers=o_headers
    ).json()["event_id"]
    assert (
        observer.post(
            f"{base}/observations/{note}/gap", json={"gap": True}, headers=o_headers
        ).status_code
        == 200
    )
    made = observer.post(
        f"{base}/observations/{note}/finding",
        json={"severity": "high", "owner": "sre-lead"},
        headers=o_headers,
    )
    assert made.status_code == 200, made.text
    finding_id = made.json()["finding"]
    again = observer.post(
        f"{base}/observations/{note}/finding", json={"severity": "high"}, headers=o_headers
    )
    assert again.status_code == 400
    assert "already became" in again.json()["error"]

    as_facilitator = facilitator.get(base).json()
    kinds = [item["kind"] for item in as_facilitator["timeline"]]
    assert kinds.count("inject") == 2
    assert "decision" in kinds
    assert "observation" in kinds
    gap = next(i for i in as_facilitator["timeline"] if i["kind"] == "observation")
    assert gap["gap"]
    assert gap["finding"] == finding_id
    assert gap["offset"].startswith("T+")
    assert as_facilitator["comms"] == {"internal": "All hands at 3"}
    assert as_facilitator["latest"]["text"] == "Hold the statement"
    assert as_facilitator["script"][0]["dropped"] is True
    # observer notes stay off the participants' view and the room screen
    assert all(i["kind"] != "observation" for i in comms.get(base).json()["timeline"])
    room = facilitator.get(f"/exercises/{exercise_id}?mode=room").text
    assert "Nobody owned the SLA clock" not in room
    assert "Nobody owned the SLA clock" in observer.get(f"/exercises/{exercise_id}").text
    finding = next(f for f in facilitator.get("/api/findings").json() if f["id"] == finding_id)
    assert finding["team"] == "sre-team"
    assert finding["owner"] == "sre-lead"
    assert finding["exercise_id"] == exercise_id
    assert finding["severity"] == "high"

    assert facilitator.post(f"{base}/end", headers=f_headers).status_code == 200
    report = facilitator.get(f"/exercises/{exercise_id}/report.md")
    assert report.status_code == 200
    assert "attachment" in report.headers["content-disposition"]
    assert "Hold the statement" in report.text
    status = facilitator.get(f"{base}/status").json()
    assert status["status"] == "in_review"
    assert status["injects_due"] == []


def test_errors_have_one_stable_body(tmp_path: Path, sqlite_store: Store) -> None:
    facilitator, csrf = client_for(
        _library(tmp_path), sqlite_store, "fred", "facilitator", "sre-team"
    )
    started = facilitator.post(
        "/api/exercises",
        json={"scenario": "scenario-2026-q2-001", "start": False},
        headers={"X-CSRF-Token": csrf},
    ).json()
    base = f"/api/exercises/{started['exercise_id']}"
    not_live = facilitator.post(f"{base}/inject", json={}, headers={"X-CSRF-Token": csrf})
    assert not_live.status_code == 400
    assert set(not_live.json()) == {"error", "status"}
    assert "must be running" in not_live.json()["error"]
    empty = facilitator.post(f"{base}/decisions", json={"text": ""}, headers={"X-CSRF-Token": csrf})
    assert empty.status_code == 422
    assert set(empty.json()) == {"error", "status"}
    unknown = facilitator.post(
        "/api/exercises", json={"scenario": "nope"}, headers={"X-CSRF-Token": csrf}
    )
    assert unknown.status_code == 404
