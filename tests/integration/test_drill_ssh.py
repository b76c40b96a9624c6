"""Techniques on an SSH target run in the same sandbox, under a sensor on that host.

The tests start a real ``sshd`` (Debian's openssh-server) on a loopback port with a
throwaway host key and client key, and drill against it as the current account.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drillbook.domain.drill import service
from drillbook.executors import sandbox
from drillbook.flows.drill_check import check_drill
from drillbook.flows.drill_run import run_drill
from drillbook.storage.engine import Store
from tests.helpers import require, shared_data
from tests.sandbox_helpers import host_folder

pytestmark = [pytest.mark.strace, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    binary = "/usr/sbin/sshd"
    require(os.path.exists(binary), "openssh-server (sshd) is not installed")
    require(shutil.which("ssh-keygen") is not None, "ssh-keygen is not installed")
    require(sandbox.probe()[0], sandbox.probe()[1])
    folder = tmp_path_factory.mktemp("sshd")
    for name in ("host_key", "client_key"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)], check=True
        )
    (folder / "authorized_keys").write_text((folder / "client_key.pub").read_text())
    port = _free_port()
    config = folder / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host_key'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\nPidFile {folder / 'sshd.pid'}\n"
        "StrictModes no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nUsePAM no\n"
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    proc = subprocess.Popen(
        [binary, "-D", "-e", "-f", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        if proc.poll() is not None:
            output = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(f"sshd did not start: {output}")
        time.sleep(0.05)
    try:
        yield {
            "port": str(port),
            "user": pwd.getpwuid(os.getuid()).pw_name,
            "key": str(folder / "client_key"),
        }
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _target(sshd: dict[str, str]) -> str:
    return (
        "target:\n  kind: ssh\n  host: 127.0.0.1\n"
        f"  port: {sshd['port']}\n  user: {sshd['user']}\n  identity_file: {sshd['key']}\n"
        "  ssh_options: [StrictHostKeyChecking=no, UserKnownHostsFile=/dev/null, LogLevel=ERROR]\n"
    )


def test_ssh_target_runs_contained_with_remote_telemetry(
    sshd: dict[str, str], sqlite_store: Store, tmp_path: Path
) -> None:
    rule = (
        shared_data()
        / "sigma/rules/linux/process_creation/proc_creation_lnx_system_info_discovery.yml"
    )
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.1)
    hits: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            hits.append(1)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    with host_folder() as host:
        victim = host / "victim.txt"
        victim.write_text("original\n")
        plan = tmp_path / "ssh.yaml"
        plan.write_text(
            "name: ssh-drill\n" + _target(sshd) + "techniques:\n"
            "  - name: T1082 - uname over ssh\n"
            "    test: uname -a\n"
            f"    expected_detection: {{sigma_rule: {rule}}}\n"
            "    cleanup: echo tidy\n"
            f"  - {{name: connect, test: 'curl -s -m 2 127.0.0.1:{port}'}}\n"
            f"  - {{name: overwrite, test: 'echo pwned > {victim}'}}\n"
            "  - {name: daemon, test: '(setsid sleep 3231 &)'}\n"
        )
        run_id = run_drill(sqlite_store, plan)
        stop.set()
        thread.join(timeout=2)
        listener.close()
        assert victim.read_text() == "original\n"
    with sqlite_store.session() as session:
        run = service.get_run(session, run_id)
        by_name = {t.name: t for t in run.technique_runs}
        uname = by_name["T1082 - uname over ssh"]
        assert uname.status == "succeeded", (uname.reason, uname.stderr)
        assert uname.telemetry_captured, uname.telemetry_note
        assert uname.cleanup_outcome == "done"
        assert "bubblewrap" in uname.details["sandbox"]
        assert by_name["connect"].status == "failed"
        assert by_name["overwrite"].status == "failed"
        assert "left 1 process(es)" in (by_name["daemon"].reason or "")
        check = check_drill(session, run_id)
    assert hits == []
    assert check.rows[0].verdict == "fired", check.rows[0].detail
    leftovers = subprocess.run(["pgrep", "-f", "sleep 3231"], capture_output=True, check=False)
    assert leftovers.stdout == b""


def test_an_unreachable_ssh_target_refuses_before_anything_runs(
    sqlite_store: Store, tmp_path: Path
) -> None:
    require(shutil.which("ssh") is not None, "ssh is not installed")
    plan = tmp_path / "ssh.yaml"
    plan.write_text(
        "name: nowhere\ntarget:\n  kind: ssh\n  host: 127.0.0.1\n"
        f"  port: {_free_port()}\n  ssh_options: [ConnectTimeout=2]\n"
        "techniques:\n  - {name: hi, test: 'true'}\n"
    )
    with pytest.raises(sandbox.SandboxUnavailable, match="cannot open a session"):
        run_drill(sqlite_store, plan, use_sensor=False)
    with sqlite_store.session() as session:
        assert service.list_runs(session) == []
