"""`drillbook serve` as a user runs it: Ctrl-C stops it while browsers follow a live
exercise (the old server hung on their open event streams)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from drillbook.storage.engine import Store
from tests.e2e.conftest import free_port
from tests.unit.test_web import _running_exercise
from tests.web_helpers import PASSWORD, add_account

pytestmark = pytest.mark.slow


def _wait_up(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        try:
            httpx.get(url + "/healthz", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("drillbook serve did not start")


def test_ctrl_c_stops_the_server_with_live_clients(tmp_path: Path) -> None:
    url_db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    store = Store(url_db)
    exercise_id = _running_exercise(store, None)
    add_account(store, "olga", "admin")
    store.close()
    port = free_port()
    env = {**os.environ, "DRILLBOOK_DATABASE_URL": url_db}
    process = subprocess.Popen(
        [sys.executable, "-m", "drillbook", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    base = f"http://127.0.0.1:{port}"
    clients: list[httpx.Client] = []
    try:
        _wait_up(base, process)
        streams = []
        for _ in range(3):
            client = httpx.Client(base_url=base, timeout=10)
            page = client.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token
            client.post(
                "/login",
                data={"username": "olga", "password": PASSWORD, "csrf_token": token.group(1)},
            )
            stream = client.stream("GET", f"/exercises/{exercise_id}/stream")
            response = stream.__enter__()
            assert response.status_code == 200
            first = next(response.iter_lines())
            assert first.startswith("data: ")
            streams.append(stream)
            clients.append(client)
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
        took = time.monotonic() - started
        print(f"stopped in {took:.2f}s")
        # the streams end at once: uvicorn's graceful timeout (5 s) is not what stopped it
        assert took < 4.5, "Ctrl-C took too long with clients connected"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for client in clients:
            client.close()


def _signed_in_client(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=10, follow_redirects=True)
    page = client.get("/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    done = client.post(
        "/login", data={"username": "olga", "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert "csrf-token" in done.text
    return client


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # workers need it
def test_two_workers_on_postgresql_share_every_change(database_url: str) -> None:
    """A change made through one worker, or by the CLI, reaches the browsers of both
    workers (LISTEN/NOTIFY); Ctrl-C stops them all."""
    from drillbook.domain.exercise import service
    from drillbook.domain.exercise.enums import EventKind

    store = Store(database_url)
    exercise_id = _running_exercise(store, None)
    add_account(store, "olga", "admin")
    port = free_port()
    env = {**os.environ, "DRILLBOOK_DATABASE_URL": database_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "drillbook", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd="/",
    )
    base = f"http://127.0.0.1:{port}"
    clients: list[httpx.Client] = []
    try:
        _wait_up(base, process)
        responses, streams = [], []
        for _ in range(6):  # new connections: the kernel spreads them over the workers
            client = _signed_in_client(base)
            clients.append(client)
            stream = client.stream("GET", f"/exercises/{exercise_id}/stream")
            streams.append(stream)
            lines = stream.__enter__().iter_lines()
            assert next(lines).startswith("data: ")
            responses.append(lines)
        with store.session() as session:  # as the CLI would
            exercise = service.get_exercise(session, exercise_id)
            service.record(session, exercise, EventKind.DECISION, "From the CLI", author="cli")
        for lines in responses:
            line = next(line for line in lines if line.startswith("data: "))
            assert "From the CLI" in line
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
        assert time.monotonic() - started < 8
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for client in clients:
            client.close()
        store.close()


def test_a_guest_stream_ends_with_the_exercise(tmp_path: Path, sqlite_store: Store) -> None:
    from tests.e2e.conftest import LiveServer
    from tests.unit.test_web import _library

    exercise_id = _running_exercise(sqlite_store, None)
    add_account(sqlite_store, "olga", "admin")
    with LiveServer(_library(tmp_path), sqlite_store) as server:
        facilitator = _signed_in_client(server.url)
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', facilitator.get("/").text)
        assert csrf
        headers = {"X-CSRF-Token": csrf.group(1)}
        link = facilitator.post(
            f"/api/exercises/{exercise_id}/invitations",
            json={"seat": "comms_lead", "name": "Carl"},
            headers=headers,
        ).json()["link"]
        guest = httpx.Client(base_url=server.url, timeout=10, follow_redirects=True)
        assert guest.get(link).status_code == 200
        with guest.stream("GET", f"/exercises/{exercise_id}/stream") as response:
            lines = response.iter_lines()
            assert next(lines).startswith("data: ")
            ended = facilitator.post(f"/api/exercises/{exercise_id}/end", headers=headers)
            assert ended.status_code == 200
            rest = [line for line in lines if line.startswith("data: ")]  # ends by itself
        assert any('"in_review"' in line for line in rest)
        assert rest[-1] == 'data: {"type":"ended"}'
        guest.close()
        facilitator.close()
