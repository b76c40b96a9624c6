"""The sandbox holds for an unprivileged runner too (bwrap over user namespaces).

Run as root, this test creates a throwaway account with ``useradd`` and runs a small drill
as that account: a connection to the host's loopback, a write to a file the account owns
(so only the sandbox can stop it), a daemon, and a discovery command under the sensor.
Run as an unprivileged user, the whole suite already is that proof, and this test skips.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest

import drillbook
from drillbook.executors import sandbox
from tests.helpers import require

ACCOUNT = "drillbook-sandbox-test"


def _ensure_account() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(ACCOUNT)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--create-home", "--shell", "/bin/sh", ACCOUNT],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(ACCOUNT)


def _as_account(
    argv: list[str], env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", ACCOUNT, "--", "env", "-i", *[f"{k}={v}" for k, v in env.items()], *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _python_for(env: dict[str, str]) -> str | None:
    """An interpreter the account can run that imports drillbook and its dependencies."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    for candidate in (sys.executable, f"/usr/bin/{version}"):
        probe = _as_account([candidate, "-c", "import drillbook.cli.main"], env, timeout=60)
        if probe.returncode == 0:
            return candidate
    return None


@pytest.mark.slow
def test_the_sandbox_holds_for_an_unprivileged_runner(tmp_path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("already unprivileged: the whole drill suite runs as this account")
    require(
        shutil.which("useradd") is not None and shutil.which("runuser") is not None,
        "useradd and runuser are needed to create the unprivileged account",
    )
    require(sandbox.probe()[0], sandbox.probe()[1])
    account = _ensure_account()
    import pydantic

    paths = [str(Path(drillbook.__file__).parents[1]), str(Path(pydantic.__file__).parents[1])]
    env = {
        "HOME": account.pw_dir,
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "PYTHONPATH": os.pathsep.join(paths),
    }
    python = _python_for(env)
    if python is None:
        pytest.skip(f"{ACCOUNT} cannot read this checkout or its packages ({paths})")

    work = Path(tempfile.mkdtemp(prefix="drillbook-unpriv-", dir="/var/tmp"))
    try:
        os.chown(work, account.pw_uid, account.pw_gid)
        owned = work / "owned.txt"
        owned.write_text("original\n")
        os.chown(owned, account.pw_uid, account.pw_gid)
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        listener.settimeout(0.1)
        port = listener.getsockname()[1]
        hits: list[str] = []
        stop = threading.Event()

        def serve() -> None:
            while not stop.is_set():
                try:
                    conn, _ = listener.accept()
                except OSError:
                    continue
                hits.append("tcp")
                conn.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        plan = work / "plan.yaml"
        plan.write_text(
            "name: unprivileged\ntechniques:\n"
            f"  - {{name: connect, test: 'curl -s -m 2 127.0.0.1:{port}'}}\n"
            f"  - {{name: overwrite, test: 'echo pwned > {owned}'}}\n"
            "  - {name: daemon, test: '(setsid sleep 3121 &)'}\n"
            "  - {name: T1082 - uname, test: 'uname -a; grep CapEff /proc/self/status'}\n"
        )
        os.chown(plan, account.pw_uid, account.pw_gid)
        run_env = {**env, "DRILLBOOK_DATABASE_URL": f"sqlite:///{work / 'db.sqlite'}"}
        done = _as_account(
            [python, "-m", "drillbook", "drill", "run", str(plan), "--json"], run_env, timeout=300
        )
        stop.set()
        thread.join(timeout=2)
        listener.close()
        assert done.stdout, done.stderr
        record = json.loads(done.stdout)
        statuses = {t["name"]: t for t in record["techniques"]}
        assert hits == []
        assert statuses["connect"]["status"] == "failed"
        assert owned.read_text() == "original\n"
        assert statuses["overwrite"]["status"] == "failed"
        assert "left 1 process(es)" in (statuses["daemon"]["reason"] or "")
        uname = statuses["T1082 - uname"]
        assert uname["status"] == "succeeded"
        assert uname["telemetry_captured"] or "strace" in (uname["telemetry_note"] or "")
        assert "bubblewrap" in record["containment"]
        leftovers = subprocess.run(["pgrep", "-f", "sleep 3121"], capture_output=True, check=False)
        assert leftovers.stdout == b""
    finally:
        shutil.rmtree(work, ignore_errors=True)
