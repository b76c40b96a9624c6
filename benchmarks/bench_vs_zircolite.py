"""drillbook's local Sigma engine and Zircolite, side by side, on the same data in one run.

Zircolite (pySigma's SQLite backend over EVTX/JSON) is the closest open-source peer. Each
scenario runs both engines as the user would, from a scratch folder, as child processes,
and measures wall time and peak memory (``wait4``'s max RSS of each child):

* ``process_creation``: SigmaHQ's Windows process_creation rules over
  EVTX-ATTACK-SAMPLES; Zircolite with its ``sysmon`` and ``windows-logsources``
  pipelines (what makes it honour each rule's log source);
* ``windows``: all SigmaHQ Windows rules over the same events;
* ``linux``: all SigmaHQ Linux rules over 200,000 synthetic Linux events (process
  creations and auditd records) in JSON lines. Zircolite has no Linux log-source
  pipeline, so it runs every rule on every event there; only times are comparable.

Each engine runs *converting* (empty conversion cache; Zircolite converting the rules)
and *warm* (drillbook's cache; Zircolite's saved ruleset, ``-sr`` then ``-r``; the median
of ``--repeat`` runs, alternating between the engines). Time is wall time: both engines
may use every core (drillbook forks a child; Zircolite's EVTX parser has threads). The
report prints drillbook / Zircolite ratios of time and peak memory, and every rule whose
match count differs, with the reason drillbook can tell (no event reached the rule's
log source, the rule could not be converted, or both ran and counted differently).

Not part of the test suite. Run (Zircolite in its own venv, see its README)::

    .venv/bin/python benchmarks/bench_vs_zircolite.py \\
        [--zircolite-python /tmp/zvenv/bin/python] [--scenario windows] [--linux-events N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
DRILLBOOK = Path(sys.executable).parent / "drillbook"


@dataclass(frozen=True)
class Measure:
    seconds: float
    cpu: float  # user + system seconds: steadier than wall time on a shared machine
    peak_mb: float
    counts: dict[str, tuple[int, str]]  # rule id -> (matches, title)
    extra: dict[str, Any]


def run_measured(
    command: list[str], cwd: Path, env: dict[str, str], stdout: Path | None = None
) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS (MB) of one child process."""
    errors = cwd / "stderr.txt"
    with (
        errors.open("wb") as err,
        stdout.open("wb") if stdout else open(os.devnull, "wb") as out,
    ):
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        text = errors.read_text(errors="replace")
        raise SystemExit(f"{command[0]} failed: {text[-2000:]}")
    return seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


# Set by --bytecode-cache (the default): where both engines keep their modules' compiled byte code.
BYTECODE: dict[str, str] = {}


def engine_env(**extra: str) -> dict[str, str]:
    """The environment an engine runs in: this one, and with --bytecode-cache a byte-code
    cache of its own for each engine (as an installed program has: pip compiles a
    package's modules when it installs it, where an editable checkout under
    PYTHONDONTWRITEBYTECODE compiles its own sources again on every run)."""
    env = {**os.environ, **extra}
    if BYTECODE:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env.update(BYTECODE)
    return env


def drillbook_run(rules: Path, events: Path, home: Path, work: Path) -> Measure:
    out = work / "drillbook.json"
    env = engine_env(HOME=str(home))
    command = [str(DRILLBOOK), "detect", "run", "--rules", str(rules), "--events", str(events)]
    seconds, cpu, peak = run_measured([*command, "--json"], work, env, stdout=out)
    data = json.loads(out.read_text())
    counts = {f["id"] or f["rule"]: (f["matches"], f["title"]) for f in data["fired"]}
    return Measure(seconds, cpu, peak, counts, data)


def zircolite_run(
    python: str, zdir: Path, rules: list[str], events: Path, work: Path, extra: list[str]
) -> Measure:
    out = work / "zircolite.json"
    command = [
        python,
        str(zdir / "zircolite.py"),
        "-e",
        str(events),
        "-r",
        *rules,
        "-c",
        str(zdir / "config" / "config.yaml"),
        "-q",
        "-o",
        str(out),
        "-l",
        str(work / "zircolite.log"),
        *extra,
    ]
    seconds, cpu, peak = run_measured(command, work, engine_env())
    found = json.loads(out.read_text()) if out.is_file() else []
    counts = {r["id"]: (int(r["count"]), r["title"]) for r in found}
    return Measure(seconds, cpu, peak, counts, {})


def median_run(runs: list[Measure]) -> Measure:
    """The run with the median wall time (its CPU and memory figures with it)."""
    return sorted(runs, key=lambda m: m.seconds)[len(runs) // 2]


def linux_events(path: Path, count: int, seed: int = 12) -> None:
    """Synthetic Linux telemetry: process creations (some that SigmaHQ rules match) and
    auditd EXECVE/SYSCALL/PATH records, one JSON object per line."""
    rng = random.Random(seed)
    commands = [
        ("/usr/bin/ls", "ls -la /home/alice"),
        ("/usr/bin/git", "git status"),
        ("/usr/bin/python3", "python3 manage.py runserver"),
        ("/usr/bin/uname", "uname -a"),
        ("/usr/bin/whoami", "whoami"),
        ("/usr/bin/chmod", "chmod +x /tmp/payload"),
        ("/usr/bin/base64", "base64 -d /tmp/blob"),
        ("/usr/bin/crontab", "crontab -l"),
        ("/usr/bin/id", "id"),
        ("/usr/bin/curl", "curl -s https://example.org/install.sh"),
    ]
    with path.open("w", encoding="utf-8") as out:
        for n in range(count):
            moment = 1777473000 + n * 0.01
            if rng.random() < 0.75:
                image, line = rng.choice(commands)
                event: dict[str, Any] = {
                    "logsource": "process_creation",
                    "UtcTime": moment,
                    "ProcessId": 1000 + n,
                    "Image": image,
                    "CommandLine": line,
                    "ParentImage": "/usr/bin/bash",
                    "User": rng.choice(["alice", "bob", "root"]),
                    "CurrentDirectory": "/home/alice",
                }
            else:
                args = rng.choice([["chage", "-l", "alice"], ["cat", "/etc/passwd"], ["ls"]])
                event = {"logsource": "auditd", "type": "EXECVE", "timestamp": moment}
                event.update({f"a{i}": a for i, a in enumerate(args)})
            out.write(json.dumps(event) + "\n")


def rule_hints(rules: Path, home: Path) -> dict[str, str]:
    """Rule id -> what in the rule explains a difference, read from drillbook's own
    conversion (the warm cache answers it in one read)."""
    from drillbook.detection.sigma_sqlite import ConversionCache, compile_rules, rule_files

    cache = ConversionCache(home / ".cache" / "drillbook" / "sigma-cache.db")
    compiled, _ = compile_rules(rule_files(rules), cache)
    hints: dict[str, str] = {}
    for rule in compiled:
        fields = {f.lower() for f in rule.fields}
        condition = rule.condition or ""
        key = rule.rule_id or rule.path
        if rule.error:
            hints[key] = f"drillbook cannot convert it: {rule.error}"
        elif "data" in fields:
            hints[key] = "likely: reads unnamed EventData values (Data), flattened differently"
        elif re.search(r"=\s*''", condition):
            hints[key] = "likely: tests an empty field, which Zircolite stores as absent"
        elif fields & {"initiated", "destinationport", "sourceport"}:
            hints[key] = "likely: compares Initiated or port values (typed in Zircolite)"
    return hints


def differences(db: Measure, zr: Measure, hints: dict[str, str]) -> list[tuple[str, int, int, str]]:
    unreached = db.extra.get("unreached", {})
    skipped = {s["rule"]: s["reason"] for s in db.extra.get("skipped", [])}
    rows = []
    for rule_id in sorted(set(db.counts) | set(zr.counts)):
        d_count, d_title = db.counts.get(rule_id, (0, ""))
        z_count, z_title = zr.counts.get(rule_id, (0, ""))
        if d_count == z_count:
            continue
        title = d_title or z_title
        if rule_id in hints:
            reason = hints[rule_id]
        elif d_count == 0 and unreached:
            reason = "drillbook: no event reached its log source, or it did not match"
        elif d_count == 0 and skipped:
            reason = "drillbook: rule not matched (see skipped rules)"
        elif z_count == 0:
            reason = "Zircolite: rule not converted or not matched"
        else:
            reason = "both ran; counts differ"
        rows.append((title, z_count, d_count, reason))
    return rows


def scenario(
    name: str, rules: Path, events: Path, args: argparse.Namespace, zextra: list[str]
) -> None:
    work = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    try:
        home = work / "home"
        home.mkdir()
        zwork = work / "z"
        zwork.mkdir()
        zdir = Path(args.zircolite_dir)
        db_cold = drillbook_run(rules, events, home, work)
        z_cold = zircolite_run(
            args.zircolite_python, zdir, [str(rules)], events, zwork, [*zextra, "-sr"]
        )
        saved = sorted(str(p) for p in zwork.glob("ruleset-*.json"))
        # warm runs alternate between the engines, and each side's median is kept: the
        # machine is shared, and a burst of other work should not land on one side only
        db_runs, z_runs = [], []
        for _ in range(args.repeat):
            db_runs.append(drillbook_run(rules, events, home, work))
            z_runs.append(
                zircolite_run(
                    args.zircolite_python,
                    zdir,
                    saved,
                    events,
                    zwork,
                    [x for x in zextra if x == "-j"],
                )
            )
        db_warm, z_warm = median_run(db_runs), median_run(z_runs)
        print(f"\n== {name}: {rules} over {events}")
        print(f"{'':12} {'drillbook':>12} {'Zircolite':>12} {'ratio':>8}")
        for label, d, z in (("converting", db_cold, z_cold), ("warm", db_warm, z_warm)):
            print(
                f"{label + ' s':12} {d.seconds:12.2f} {z.seconds:12.2f} "
                f"{d.seconds / z.seconds:8.2f}"
            )
            print(f"{label + ' cpu':12} {d.cpu:12.2f} {z.cpu:12.2f} {d.cpu / z.cpu:8.2f}")
            print(
                f"{label + ' MB':12} {d.peak_mb:12.1f} {z.peak_mb:12.1f} "
                f"{d.peak_mb / z.peak_mb:8.2f}"
            )
        print(
            "warm runs, s: drillbook "
            + " ".join(f"{m.seconds:.2f}" for m in db_runs)
            + "; Zircolite "
            + " ".join(f"{m.seconds:.2f}" for m in z_runs)
        )
        print(f"rules fired: drillbook {len(db_warm.counts)}, Zircolite {len(z_warm.counts)}")
        hints = rule_hints(rules, home)
        for title, z_count, d_count, reason in differences(db_warm, z_warm, hints)[: args.max_diff]:
            print(f"  differs: {title!r}: Zircolite {z_count}, drillbook {d_count} ({reason})")
        for source, count in db_warm.extra.get("unreached", {}).items():
            print(f"  drillbook: {count} rule(s) read {source}; no event went there")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--zircolite-python", default=os.environ.get("ZIRCOLITE_PYTHON", "/tmp/zvenv/bin/python")
    )
    parser.add_argument(
        "--data", default=os.environ.get("DRILLBOOK_SHARED_DATA", str(SHARED / "data"))
    )
    parser.add_argument("--zircolite-dir", help="Default: tools/zircolite beside --data.")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=["process_creation", "windows", "linux"],
        help="Run only these (default: all three).",
    )
    parser.add_argument("--linux-events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3, help="Warm runs per engine (median).")
    parser.add_argument("--max-diff", type=int, default=60)
    parser.add_argument(
        "--bytecode-cache",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="Give both engines a byte-code cache (PYTHONPYCACHEPREFIX), as installed "
        "programs have; each engine's converting run fills it (default: on; "
        "--no-bytecode-cache compiles both engines' sources on every run when "
        "PYTHONDONTWRITEBYTECODE is set).",
    )
    args = parser.parse_args()
    if args.bytecode_cache:
        BYTECODE["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="bench-pycache-")
    data = Path(args.data)
    args.zircolite_dir = args.zircolite_dir or str(data.parent / "tools" / "zircolite")
    if not Path(args.zircolite_python).exists():
        raise SystemExit(f"no Zircolite venv python at {args.zircolite_python} (see its README)")
    wanted = args.scenario or ["process_creation", "windows", "linux"]
    evtx = data / "evtx-attack-samples"
    windows = data / "sigma" / "rules" / "windows"
    pipelines = ["-p", "sysmon", "-p", "windows-logsources"]
    if "process_creation" in wanted:
        scenario("process_creation", windows / "process_creation", evtx, args, pipelines)
    if "windows" in wanted:
        scenario("windows", windows, evtx, args, pipelines)
    if "linux" in wanted:
        with tempfile.TemporaryDirectory() as folder:
            events = Path(folder) / "linux-events.jsonl"
            linux_events(events, args.linux_events)
            scenario("linux", data / "sigma" / "rules" / "linux", events, args, ["-j"])


if __name__ == "__main__":
    main()
