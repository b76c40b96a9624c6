"""The kernel-enforced safety profile: every local technique runs inside bubblewrap.

The profile used to be enforced by reading the command text, and text loses: ``c''url``,
``/usr/bin/curl``, ``$(echo cu)rl``, base64 piped to ``sh`` and a ``python3 -c`` one-liner
all read as harmless. Here the kernel enforces it instead, with namespaces set up by
``bwrap`` (Debian's ``bubblewrap``, the sandbox Flatpak uses):

* ``network_allowed: false``: a new network namespace holding only its own loopback, so
  nothing reaches the host's interfaces, its loopback included. A network namespace does
  not stop a connect() to a Unix socket *file* (a database's, docker's) on a read-only
  mount, so a seccomp filter (:func:`seccomp_program`) refuses ``socket(AF_UNIX, ...)``
  and ``io_uring_setup``, and ``/run`` is masked as well;
* ``destructive_actions_allowed: false``: the host's filesystem is mounted read-only, and
  the technique gets a private scratch (its own ``/tmp``, ``/var/tmp``, home and working
  directory), shared by its prerequisites, detonation and cleanup and thrown away after
  the cleanup; the profile's ``writable:`` paths are the only host paths it may change.
  ``max_data_volume_simulated`` caps every file it writes (``RLIMIT_FSIZE``: the kernel
  stops the writer) and the scratch's total is measured and held against it;
* ``elevation_allowed: false``: every capability dropped, a user namespace, and
  ``no_new_privs`` (bwrap always sets it), so neither root nor ``sudo`` nor a setuid
  binary gets privileges inside;
* always a PID namespace: when the technique's shell exits, the namespace's init exits
  and the kernel kills every process it left (setsid, nohup and double forks included).

The technique runs under a small supervisor shell (:data:`SUPERVISOR`) that runs it,
then lists what it left running (the report calls such a technique out), evaluates the
plan's ``file_exists`` checks from inside (the scratch is gone afterwards), and writes
all that to a file descriptor the technique never inherits. The runner's private folder
(the sensor's trace, that report) is hidden under an empty tmpfs.
"""

from __future__ import annotations

import errno
import functools
import os
import platform
import shutil
import struct
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from drillbook.domain.drill.plan import SafetyProfile
from drillbook.errors import DrillbookError

SANDBOX_WORKDIR = "/tmp/drill"
REPORT_FD = 3
SECCOMP_FD = 4
# The supervisor: ``sh -c SUPERVISOR drillbook-sandbox BLOCKS N CHECK_1 .. CHECK_N ARGV...``
# (BLOCKS: the file size limit in 512-byte blocks, or ``-``).
# Only shell builtins run after the technique (no extra process in the telemetry).
SUPERVISOR = r"""if [ "$1" != - ]; then ulimit -f "$1" || exit 125; fi; shift
n=$1; shift; checks=""
while [ "$n" -gt 0 ]; do checks="$checks
$1"; shift; n=$((n - 1)); done
"$@" 3>&- 4<&-
rc=$?
for p in /proc/[0-9]*; do
  pid=${p#/proc/}
  if [ "$pid" != 1 ] && [ "$pid" != $$ ] && [ -r "$p/comm" ]; then
    comm=""; read -r comm < "$p/comm" 2>/dev/null
    echo "left $pid $comm" >&3
  fi
done
IFS='
'
for path in $checks; do
  [ -n "$path" ] || continue
  if [ -e "$path" ]; then echo "exists $path" >&3; else echo "missing $path" >&3; fi
done
echo "exit $rc" >&3
exit $rc
"""
SUPERVISOR_LABEL = "drillbook-sandbox"


# seccomp: classic BPF over struct seccomp_data {int nr; u32 arch; u64 ip; u64 args[6]}
_ARCHES = {  # machine -> (AUDIT_ARCH_*, __NR_socket)
    "x86_64": (0xC000003E, 41),
    "aarch64": (0xC00000B7, 198),
}
_NR_IO_URING_SETUP = 425
_X32_BIT = 0x40000000
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_RET_KILL_PROCESS = 0x80000000


def _insn(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def seccomp_program(machine: str | None = None) -> bytes | None:
    """A filter that refuses Unix sockets (the way around a network namespace through a
    socket file) and io_uring (which makes sockets without the socket() call); other
    architectures' syscalls (32-bit compat) kill the caller. None on an architecture
    this filter does not know."""
    arch = _ARCHES.get(machine or platform.machine())
    if arch is None:
        return None
    audit_arch, nr_socket = arch
    ld, jeq, ret, and_ = 0x20, 0x15, 0x06, 0x54
    return b"".join(
        [
            _insn(ld, 0, 0, 4),  # arch
            _insn(jeq, 1, 0, audit_arch),
            _insn(ret, 0, 0, _RET_KILL_PROCESS),
            _insn(ld, 0, 0, 0),  # syscall number
            _insn(and_, 0, 0, 0xFFFFFFFF & ~_X32_BIT),
            _insn(jeq, 0, 1, _NR_IO_URING_SETUP),
            _insn(ret, 0, 0, _RET_ERRNO | errno.EPERM),
            _insn(jeq, 0, 3, nr_socket),
            _insn(ld, 0, 0, 16),  # args[0], low half: the address family
            _insn(jeq, 0, 1, socket_af_unix()),
            _insn(ret, 0, 0, _RET_ERRNO | errno.EACCES),
            _insn(ret, 0, 0, _RET_ALLOW),
        ]
    )


def socket_af_unix() -> int:
    import socket

    return int(socket.AF_UNIX)


class SandboxUnavailable(DrillbookError):
    """The kernel (or the machine) refuses the namespaces a contained drill needs."""


@dataclass(frozen=True)
class SandboxPolicy:
    """What the sandbox allows, derived from a safety profile (and stored in the journal,
    so that ``drill cleanup --pending`` contains a cleanup exactly as the run would)."""

    network: bool = False
    writable_host: bool = False
    elevation: bool = False
    scratch_bytes: int | None = None
    writable: tuple[str, ...] = ()

    @classmethod
    def from_profile(cls, profile: SafetyProfile) -> SandboxPolicy:
        return cls(
            network=profile.network_allowed,
            writable_host=profile.destructive_actions_allowed,
            elevation=profile.elevation_allowed,
            scratch_bytes=profile.max_data_volume_bytes,
            writable=tuple(profile.writable),
        )

    def payload(self) -> dict[str, Any]:
        data = asdict(self)
        data["writable"] = list(self.writable)
        return data

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> SandboxPolicy:
        return cls(
            network=bool(data.get("network")),
            writable_host=bool(data.get("writable_host")),
            elevation=bool(data.get("elevation")),
            scratch_bytes=data.get("scratch_bytes"),
            writable=tuple(str(p) for p in data.get("writable") or ()),
        )

    def describe(self) -> str:
        parts = [
            "own network namespace (loopback only)" if not self.network else "host network",
            "read-only host filesystem, private scratch"
            if not self.writable_host
            else "writable host filesystem",
            "no capabilities" if not self.elevation else "capabilities kept",
            "own PID namespace",
        ]
        return "bubblewrap: " + ", ".join(parts)


def bwrap_binary() -> str | None:
    return shutil.which("bwrap")


ENABLE_HINT = (
    "install bubblewrap (apt-get install bubblewrap) and allow user namespaces "
    "(sysctl kernel.unprivileged_userns_clone=1 and user.max_user_namespaces > 0; in a "
    "container, start it with namespaces allowed, e.g. without a seccomp profile that "
    "blocks unshare), or set `sandbox: none` in the plan's safety profile to run the "
    "techniques uncontained"
)


@functools.cache
def probe() -> tuple[bool, str]:
    """Whether bwrap can build the strictest sandbox here, and why not when it cannot."""
    binary = bwrap_binary()
    if binary is None:
        return False, "bubblewrap (bwrap) is not installed"
    argv = [binary, "--ro-bind", "/", "/", "--unshare-all", "--die-with-parent"]
    argv += ["--cap-drop", "ALL", "true"]
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"bwrap cannot start: {exc}"
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return False, f"the kernel refuses the sandbox's namespaces ({detail})"
    return True, "bubblewrap works"


def require_sandbox() -> None:
    """Raise :class:`SandboxUnavailable` with what to enable when bwrap cannot run here."""
    usable, why = probe()
    if not usable:
        raise SandboxUnavailable(f"drills run techniques in a sandbox, but {why}: {ENABLE_HINT}")


def _home() -> str:
    home = os.environ.get("HOME") or "/root"
    return home if os.path.isabs(home) and home != "/" else "/root"


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == r or path.startswith(r.rstrip("/") + "/") for r in roots)


SCRATCH_DIRS = {"tmp": "/tmp", "var-tmp": "/var/tmp", "home": None}


def make_scratch(path: Path) -> Path:
    """Create a technique's scratch (``tmp``, ``var-tmp``, ``home``, and the working
    directory inside ``tmp``) at ``path``, private to this account."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in SCRATCH_DIRS:
        (path / name).mkdir(exist_ok=True)
    (path / "tmp" / Path(SANDBOX_WORKDIR).name).mkdir(exist_ok=True)
    return path


def scratch_size(path: Path) -> int:
    """Bytes held by the files under ``path`` (what a technique left in its scratch)."""
    total = 0
    for folder, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total


@dataclass(frozen=True)
class RemoteHost:
    """What building a sandbox command for another host needs to know about it."""

    home: str
    uid: int
    machine: str


@dataclass
class SandboxCommand:
    """A bwrap command line around one step, and what the supervisor will report."""

    argv: list[str]
    inner: list[str]
    env: dict[str, str]
    report_path: Path
    checks: list[str] = field(default_factory=list)
    seccomp_path: Path | None = None


def wrap(
    inner: list[str],
    policy: SandboxPolicy,
    *,
    private: Path,
    scratch: Path,
    env: dict[str, str],
    report_name: str,
    checks: list[str] | None = None,
    binary: str | None = None,
    remote: RemoteHost | None = None,
) -> SandboxCommand:
    """``inner`` (the technique's own argv) under the supervisor inside bwrap.

    ``private`` is the runner's folder (trace, report): it is hidden inside. ``scratch``
    (made by :func:`make_scratch`) becomes the technique's ``/tmp``, ``/var/tmp`` and home.
    """
    home = remote.home if remote else _home()
    if remote:
        binary = binary or "bwrap"
    argv = [binary or bwrap_binary() or "bwrap", "--die-with-parent", "--new-session"]
    argv += ["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    if not policy.network:
        argv.append("--unshare-net")
    if policy.elevation:
        root = remote.uid == 0 if remote else os.geteuid() == 0
        argv += ["--cap-add", "ALL"] if root else []
    else:
        argv += ["--unshare-user", "--cap-drop", "ALL"]
    argv += ["--bind" if policy.writable_host else "--ro-bind", "/", "/"]
    argv += ["--dev", "/dev", "--proc", "/proc"]
    masked: list[str] = []
    for name, dest in SCRATCH_DIRS.items():
        where = dest or home
        if not _under(where, tuple(masked)):
            argv += ["--bind", str(scratch / name), where]
            masked.append(where)
    if not policy.network and (remote is not None or os.path.isdir("/run")):
        argv += ["--tmpfs", "/run"]  # Unix sockets (databases, docker, dbus) live there
        masked.append("/run")
    hidden = str(private) if remote else str(private.resolve())
    if not _under(hidden, tuple(masked)):
        argv += ["--tmpfs", hidden]
    for path in policy.writable:
        argv += ["--bind", path, path]
    argv += ["--chdir", SANDBOX_WORKDIR]
    seccomp_path: Path | None = None
    machine = remote.machine if remote else None
    program = None if policy.network else seccomp_program(machine)
    if program is not None:
        seccomp_path = private / "seccomp.bpf"
        if remote is None and not seccomp_path.exists():
            seccomp_path.write_bytes(program)
        argv += ["--seccomp", str(SECCOMP_FD)]
    inside_env = {**env, "HOME": home, "TMPDIR": "/tmp", "PWD": SANDBOX_WORKDIR}
    wanted = list(checks or [])
    report = private / f"report-{report_name}.txt"
    sh = "/bin/sh" if remote else shutil.which("sh", path=env.get("PATH")) or "/bin/sh"
    argv += [
        "--",
        sh,
        "-c",
        SUPERVISOR,
        SUPERVISOR_LABEL,
        "-" if policy.scratch_bytes is None else str(max(1, policy.scratch_bytes // 512)),
        str(len(wanted)),
        *wanted,
        *inner,
    ]
    return SandboxCommand(argv, inner, inside_env, report, wanted, seccomp_path)


@dataclass
class SandboxReport:
    """What the supervisor saw: processes left behind, checked paths, the exit code."""

    leftovers: list[str] = field(default_factory=list)
    existing: set[str] = field(default_factory=set)
    exit_code: int | None = None
    received: bool = False


# Runs outside the sandbox (and outside the sensor): opens the report file as fd 3 for the
# supervisor (and the seccomp filter as fd 4 for bwrap), then becomes the sensor or bwrap.
TRAMPOLINE = 'exec 3>>"$0" || exit 126; exec "$@"'
TRAMPOLINE_SECCOMP = 'exec 3>>"$0" 4<"$1" || exit 126; shift; exec "$@"'


def with_report_fd(argv: list[str], command: SandboxCommand) -> list[str]:
    """``argv`` started with the supervisor's report file open as fd 3 (and the seccomp
    filter as fd 4)."""
    if command.seccomp_path is None:
        return ["/bin/sh", "-c", TRAMPOLINE, str(command.report_path), *argv]
    paths = [str(command.report_path), str(command.seccomp_path)]
    return ["/bin/sh", "-c", TRAMPOLINE_SECCOMP, *paths, *argv]


def read_report(path: Path) -> SandboxReport:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return SandboxReport()
    return parse_report(text)


def parse_report(text: str) -> SandboxReport:
    """The supervisor's report (``left``, ``exists``/``missing`` and ``exit`` lines)."""
    report = SandboxReport()
    for line in text.splitlines():
        word, _, rest = line.partition(" ")
        if word == "left":
            report.leftovers.append(rest)
        elif word == "exists":
            report.existing.add(rest)
        elif word == "exit":
            report.received = True
            try:
                report.exit_code = int(rest)
            except ValueError:
                report.exit_code = None
    return report


def leftover_note(leftovers: list[str]) -> str:
    names = sorted({item.partition(" ")[2] or "?" for item in leftovers})
    return (
        f"left {len(leftovers)} process(es) running ({', '.join(names)}); the sandbox "
        "killed them when the technique's shell exited"
    )
