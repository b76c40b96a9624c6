"""The evasion corpus: what beat the old command-text checks, run under the default profile.

Every case is an inline technique of one plan (one drill run, so the corpus stays fast),
run in the sandbox under the strace sensor. The promises, checked on the host afterwards:

* 0 connections reach the host's loopback listeners (TCP, UDP, a Unix socket file);
* 0 files change outside the scratch (a protected folder, /tmp, /var/tmp, $HOME);
* 0 processes outlive the drill (every daemon sleeps a unique number of seconds);
* 0 forged detections (no forged event reaches the store; traces were not deleted);
* no capability inside, even when the suite runs as root.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from drillbook.domain.drill import service
from drillbook.executors import sandbox
from drillbook.flows.drill_run import run_drill
from drillbook.storage.engine import Store
from drillbook.telemetry.sensors import strace
from tests.helpers import require
from tests.sandbox_helpers import host_folder

TOKEN = f"evasion{os.getpid()}"
FORGED = f'1 1.0 execve("/usr/bin/uname", ["uname", "-a", "{TOKEN}"], []) = 0'


@dataclass
class Listeners:
    """Loopback listeners on the host that count whatever reaches them."""

    tcp_port: int
    udp_port: int
    unix_path: Path
    hits: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)


def _serve(
    listeners: Listeners, tcp: socket.socket, udp: socket.socket, unix: socket.socket
) -> None:
    for sock in (tcp, udp, unix):
        sock.settimeout(0.05)
    while not listeners.stop.is_set():
        for kind, sock in (("tcp", tcp), ("unix", unix)):
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            listeners.hits.append(kind)
            conn.close()
        try:
            udp.recvfrom(4096)
            listeners.hits.append("udp")
        except OSError:
            pass


@pytest.fixture(scope="module")
def listeners() -> Iterator[Listeners]:
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(16)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    with host_folder() as folder:
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.bind(str(folder / "s"))
        unix.listen(16)
        found = Listeners(tcp.getsockname()[1], udp.getsockname()[1], folder / "s")
        thread = threading.Thread(target=_serve, args=(found, tcp, udp, unix), daemon=True)
        thread.start()
        try:
            yield found
        finally:
            found.stop.set()
            thread.join(timeout=2)
            for sock in (tcp, udp, unix):
                sock.close()


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def network_cases(p: int, u: int, sock: Path) -> dict[str, str]:
    url = f"127.0.0.1:{p}"
    curl = f"curl -s -m 2 {url}"
    return {
        "plain curl": curl,
        "absolute path": f"/usr/bin/curl -s -m 2 {url}",
        "command substitution": f"$(echo cu)rl -s -m 2 {url}",
        "empty quotes": f"c''url -s -m 2 {url}",
        "parameter default": f"${{X:-curl}} -s -m 2 {url}",
        "base64 to sh": f"echo {_b64(curl)} | base64 -d | sh",
        "hex via printf": "$(printf '\\x63\\x75\\x72\\x6c') -s -m 2 " + url,
        "reversed eval": f"eval \"$(echo '{curl[::-1]}' | rev)\"",
        "python socket": (
            f"python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {p}), 2)'"
        ),
        "python urllib": f"python3 -c 'import urllib.request as u; u.urlopen(\"http://{url}\")'",
        "perl socket": (f"perl -MIO::Socket::INET -e 'IO::Socket::INET->new(\"{url}\") or exit 1'"),
        "bash dev tcp": f"bash -c 'echo x > /dev/tcp/127.0.0.1/{p}'",
        "here-doc": f"sh <<'EOF'\n{curl}\nEOF",
        "localhost name": f"curl -s -m 2 localhost:{p}",
        "udp datagram": (
            "python3 -c 'import socket; "
            f'socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b"x", ("127.0.0.1", {u}))\''
        ),
        "socat": f"socat -T1 - TCP:{url} </dev/null",
        "unix socket file": (
            f"python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.connect(\"{sock}\")'"
        ),
        "unix socket socat": f"socat -T1 - UNIX-CONNECT:{sock} </dev/null",
    }


def destruction_cases(v: Path) -> dict[str, str]:
    return {
        "absolute rm": f"/bin/rm -f {v}/a",
        "find delete": f"find {v}/a -delete",
        "fd redirection": f"echo x 1>{v}/b",
        "clobber": f">|{v}/b",
        "tee": f"echo x | tee {v}/b",
        "cp dev null": f"cp /dev/null {v}/b",
        "sed in place": f"sed --in-place s/a/z/ {v}/c",
        "perl in place": f"perl -pi -e s/a/z/ {v}/c",
        "python remove": f"python3 -c 'import os; os.remove(\"{v}/a\")'",
        "mv": f"mv {v}/a {v}/moved",
        "chmod": f"chmod 777 {v}/a",
        "truncate": f"truncate -s 0 {v}/a",
        "dd": f"dd if=/dev/zero of={v}/a bs=1 count=1",
        "new file": f"touch {v}/new",
        "here-doc write": f"cat > {v}/b <<'EOF'\npwned\nEOF",
        "base64 rm": f"echo {_b64(f'rm -rf {v}')} | base64 -d | sh",
        "host tmp": f"echo x > /tmp/{TOKEN}",
        "host var tmp": f"echo x > /var/tmp/{TOKEN}",
        "host home": f'echo x > "$HOME/{TOKEN}"',
    }


CLEANUP_CASES = {
    "cleanup rm -rf": "rm -rf {v}",
    "cleanup overwrite": "echo x > {v}/b",
}


def daemon_cases() -> dict[str, str]:
    return {
        "setsid without ids": (
            "(env -u DRILLBOOK_DRILL_ID -u DRILLBOOK_TECHNIQUE_RUN_ID setsid sleep 3011 &)"
        ),
        "nohup": "nohup sleep 3012 >/dev/null 2>&1 &",
        "double fork": "sh -c '(sleep 3013 &) &'",
        "bash disown": "bash -c 'sleep 3014 & disown'",
        "python daemon": (
            "python3 -c 'import os, time\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            '        os.execvp("sleep", ["sleep", "3015"])\''
        ),
    }


def tamper_cases() -> dict[str, str]:
    forged = FORGED.replace("'", "")
    return {
        "append to traces": (
            "for f in $(find / -xdev -maxdepth 4 -name 'trace-*' 2>/dev/null); do "
            f"echo '{forged}' >> \"$f\"; done; echo '{forged}' >> trace.txt"
        ),
        "delete traces": "find / -xdev -maxdepth 4 -name 'trace-*' -delete 2>/dev/null; true",
        "append to every reachable file": (
            'find /tmp /var/tmp "$HOME" /run /dev/shm -type f 2>/dev/null | '
            f"while read -r f; do echo '{forged}' >> \"$f\"; done; true"
        ),
        "write the report fd": "echo 'exists /nowhere' >&3; echo 'exit 0' >&3; true",
        "kill everything visible": "kill -9 -1; true",
    }


ELEVATION_CASES = {
    "mount": "mount -t tmpfs none /mnt && echo ELEVATED",
    "capabilities": "grep CapEff /proc/self/status",
    "chown": "chown 0:0 /tmp/drill && chown 65534 /etc/hostname && echo ELEVATED",
    "sudo": "sudo -n true && echo ELEVATED",
}


def _fingerprint(folder: Path) -> dict[str, tuple[int, str]]:
    out: dict[str, tuple[int, str]] = {}
    for path in sorted(folder.rglob("*")):
        stat = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
        out[str(path.relative_to(folder))] = (stat.st_mode, digest)
    return out


def _yaml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _running(needle: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if needle in cmdline:
                found.append(int(entry.name))
    return found


@dataclass
class Corpus:
    cases: dict[str, str]
    results: dict[str, Any]
    events: list[dict[str, Any]]
    before: dict[str, tuple[int, str]]
    after: dict[str, tuple[int, str]]
    seconds: float


@pytest.fixture(scope="module")
def corpus(listeners: Listeners, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Corpus]:
    require(sandbox.probe()[0], f"the sandbox cannot run here: {sandbox.probe()[1]}")
    require(strace.probe()[0], "strace cannot trace here")
    tmp = tmp_path_factory.mktemp("corpus")
    with host_folder() as victims:
        for name in ("a", "b", "c"):
            (victims / name).write_text(f"{name} original\n")
            (victims / name).chmod(0o644)
        cases = {
            **network_cases(listeners.tcp_port, listeners.udp_port, listeners.unix_path),
            **destruction_cases(victims),
            **daemon_cases(),
            **tamper_cases(),
            **ELEVATION_CASES,
        }
        entries = [
            f"  - name: {_yaml_str(name)}\n    test: {_yaml_str(text)}\n    timeout: 20s\n"
            for name, text in cases.items()
        ]
        for name, text in CLEANUP_CASES.items():
            cleanup = text.format(v=victims)
            entries.append(
                f"  - name: {_yaml_str(name)}\n    test: 'true'\n"
                f"    cleanup: {_yaml_str(cleanup)}\n"
            )
            cases[name] = cleanup
        plan = tmp / "corpus.yaml"
        plan.write_text("name: evasion-corpus\ntechniques:\n" + "".join(entries))
        before = _fingerprint(victims)
        store = Store(f"sqlite:///{tmp / 'db.sqlite'}")
        started = time.monotonic()
        run_id = run_drill(store, plan)
        seconds = time.monotonic() - started
        time.sleep(0.2)
        after = _fingerprint(victims)
        with store.session() as session:
            run = service.get_run(session, run_id)
            results = {
                t.name: {
                    "status": t.status,
                    "stdout": t.stdout,
                    "stderr": t.stderr,
                    "reason": t.reason,
                    "telemetry": t.telemetry_captured,
                }
                for t in run.technique_runs
            }
            events = service.process_events(session, run_id, include_runner=True)
        store.close()
        yield Corpus(cases, results, events, before, after, seconds)


def test_the_corpus_is_large_and_fast(corpus: Corpus) -> None:
    assert len(corpus.cases) >= 40
    assert len(corpus.results) == len(corpus.cases)
    assert corpus.seconds < 60, corpus.seconds
    assert all(r["status"] != "refused" for r in corpus.results.values())


def test_no_connection_reaches_the_host(corpus: Corpus, listeners: Listeners) -> None:
    assert listeners.hits == []
    # and the cases did try: curl reports it cannot connect, not that it is missing
    assert corpus.results["plain curl"]["status"] == "failed"


def test_no_file_outside_the_scratch_changes(corpus: Corpus) -> None:
    assert corpus.after == corpus.before
    for place in ("/tmp", "/var/tmp", os.environ.get("HOME", "/root")):
        assert not (Path(place) / TOKEN).exists()
    assert "Read-only file system" in corpus.results["absolute rm"]["stderr"]


def test_no_process_outlives_the_drill(corpus: Corpus) -> None:
    for seconds in range(3011, 3016):
        assert _running(f"sleep {seconds}") == []
    for name in daemon_cases():
        result = corpus.results[name]
        assert result["status"] == "succeeded", (name, result)
        assert "left" in (result["reason"] or ""), (name, result)


def test_no_forged_detection(corpus: Corpus) -> None:
    forged = [e for e in corpus.events if e["CommandLine"] == f"uname -a {TOKEN}"]
    assert forged == []
    assert not any(e["Image"].endswith("/uname") for e in corpus.events)
    for name in tamper_cases():
        assert corpus.results[name]["telemetry"], name  # the trace was not deleted


def test_no_privilege_inside(corpus: Corpus) -> None:
    for name in ELEVATION_CASES:
        assert "ELEVATED" not in corpus.results[name]["stdout"], name
    assert "CapEff:\t0000000000000000" in corpus.results["capabilities"]["stdout"]
