"""How fast the CLI starts: `drillbook --help`, `--version` and `scenario list` against a bare
`python -c pass` on the same interpreter, as wall time and CPU time (median of N runs).

Target (issue "Green on a fresh machine"): `drillbook --help` under 0.3 s, and under a third
of the 0.9 s of CPU it took when every command module was imported at start.
Run: ``.venv/bin/python benchmarks/bench_startup.py [RUNS]``.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_HELP_SECONDS = 0.3
BEFORE_HELP_CPU_SECONDS = 0.9


def _drillbook(*args: str) -> list[str]:
    return [sys.executable, "-c", "from drillbook.cli.main import main; main()", *args]


def measure(command: list[str], runs: int, cwd: Path) -> tuple[float, float]:
    """Median wall and CPU seconds (user + system of the child) over ``runs`` runs."""
    walls: list[float] = []
    cpus: list[float] = []
    env = {**os.environ, "COLUMNS": "100"}
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, check=True)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(
            (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
        )
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "drillbook --help": _drillbook("--help"),
        "drillbook --version": _drillbook("--version"),
        "drillbook scenario list": _drillbook("scenario", "list"),
    }
    with tempfile.TemporaryDirectory() as scratch:
        print(f"CLI start-up, median of {runs} runs ({sys.executable})")
        print(f"{'command':<26}{'wall s':>9}{'cpu s':>9}{'over bare python':>18}")
        bare_wall = 0.0
        results: dict[str, tuple[float, float]] = {}
        for name, command in cases.items():
            wall, cpu = measure(command, runs, Path(scratch))
            results[name] = (wall, cpu)
            if name == "python -c pass":
                bare_wall = wall
            print(f"{name:<26}{wall:>9.3f}{cpu:>9.3f}{wall - bare_wall:>17.3f}s")
    help_wall, help_cpu = results["drillbook --help"]
    verdict = "PASS" if help_wall < TARGET_HELP_SECONDS else "MISS"
    print(
        f"{verdict}: drillbook --help {help_wall:.3f} s (target < {TARGET_HELP_SECONDS} s); "
        f"CPU {help_cpu:.3f} s = {help_cpu / BEFORE_HELP_CPU_SECONDS:.0%} of the "
        f"{BEFORE_HELP_CPU_SECONDS} s before lazy loading (target < 33%)"
    )


if __name__ == "__main__":
    main()
