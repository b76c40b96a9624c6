"""``max_data_volume_simulated`` is measured, not only validated: the scratch's files are
capped, and where network is allowed the bytes sent are counted live and the technique
is stopped when it passes the limit."""

from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

from drillbook.domain.drill import service
from drillbook.executors import sandbox
from drillbook.flows.drill_check import scorecard_for
from drillbook.flows.drill_run import run_drill
from drillbook.storage.engine import Store
from drillbook.telemetry.sensors import strace
from tests.helpers import require

pytestmark = [pytest.mark.strace]


def test_scratch_files_are_capped(tmp_path: Path, sqlite_store: Store) -> None:
    require(sandbox.probe()[0], sandbox.probe()[1])
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "name: volume\nsafety: {max_data_volume_simulated: 64KiB}\ntechniques:\n"
        "  - {name: big, test: 'head -c 1000000 /dev/zero > /tmp/big'}\n"
        "  - {name: small, test: 'head -c 1000 /dev/zero > /tmp/small'}\n"
    )
    run_id = run_drill(sqlite_store, plan, use_sensor=False)
    with sqlite_store.session() as session:
        big, small = service.get_run(session, run_id).technique_runs
        assert big.status == "failed"  # SIGXFSZ stopped the writer
        assert big.details["scratch_bytes"] <= 64 * 1024
        assert small.status == "succeeded"
        assert small.details["scratch_bytes"] == 1000


def test_network_bytes_are_counted_and_the_limit_stops_the_technique(
    tmp_path: Path, sqlite_store: Store
) -> None:
    require(sandbox.probe()[0], sandbox.probe()[1])
    require(strace.probe()[0], strace.probe()[1])
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    server.settimeout(0.1)
    received: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.settimeout(0.1)
            while not stop.is_set():
                try:
                    data = conn.recv(65536)
                except OSError:
                    continue
                if not data:
                    break
                received.append(len(data))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = server.getsockname()[1]
    sender = (
        "python3 -c 'import socket, time\n"
        f'c = socket.create_connection(("127.0.0.1", {port}))\n'
        "for _ in range({count}):\n"
        '    c.sendall(b"x" * 1000)\n'
        "    time.sleep(0.01)'"
    )
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "name: exfil\nsafety: {network_allowed: true, max_data_volume_simulated: 20KB}\n"
        "techniques:\n"
        f"  - name: T1048 - too much\n    test: {json.dumps(sender.format(count=3000))}\n"
        f"  - name: T1048 - a little\n    test: {json.dumps(sender.format(count=3))}\n"
    )
    try:
        run_id = run_drill(sqlite_store, plan)
    finally:
        stop.set()
        thread.join(timeout=2)
        server.close()
    with sqlite_store.session() as session:
        much, little = service.get_run(session, run_id).technique_runs
        assert much.status == "failed"
        assert "max_data_volume_simulated" in (much.reason or "")
        assert (much.ended_at - much.started_at).total_seconds() < 15  # not its 30 s
        assert much.details["network_bytes_sent"] > 20_000
        assert little.status == "succeeded", little.stderr
        assert little.details["network_bytes_sent"] == 3000
        card = scorecard_for(session, run_id)
    assert card.network_bytes_sent["T1048"] > 23_000
    assert sum(received) < 3_000_000
