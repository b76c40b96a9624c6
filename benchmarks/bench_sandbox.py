"""What the sandbox costs per step: start-up of a contained `true` against a bare one.

Each step of a drill (prerequisite check, detonation, cleanup) starts one sandbox. This
runs `true` N times bare (fork-exec through subprocess) and N times inside the default
profile's sandbox exactly as a drill starts it (the report trampoline, bwrap with its
namespaces, mounts and seccomp filter, the supervisor shell), and prints the medians and
the difference. Run: ``.venv/bin/python benchmarks/bench_sandbox.py [COUNT]``.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from drillbook.domain.drill.plan import SafetyProfile
from drillbook.executors import sandbox


def _time(argv: list[str], count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdin=subprocess.DEVNULL)
        samples.append(time.perf_counter() - started)
    return samples


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    usable, why = sandbox.probe()
    if not usable:
        print(f"sandbox benchmark skipped: {why}")
        return 0
    policy = sandbox.SandboxPolicy.from_profile(SafetyProfile())
    with tempfile.TemporaryDirectory() as folder:
        private = Path(folder)
        scratch = sandbox.make_scratch(private / "scratch")
        wrapped = sandbox.wrap(
            ["true"], policy, private=private, scratch=scratch, env={}, report_name="bench"
        )
        contained = sandbox.with_report_fd(wrapped.argv, wrapped)
        _time(["true"], 3)
        _time(contained, 3)  # warm the page cache
        bare = statistics.median(_time(["true"], count)) * 1000
        boxed = statistics.median(_time(contained, count)) * 1000
    print(f"bare true:      {bare:7.2f} ms (median of {count})")
    print(f"contained true: {boxed:7.2f} ms (median of {count})")
    print(f"sandbox cost:   {boxed - bare:7.2f} ms per step")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
