"""Print the packages whose installed version differs from the lock (newest-releases lane).

Run with the interpreter of the environment to compare: ``python .ci/lock_drift.py LOCK``.
"""

from __future__ import annotations

import re
import sys
from importlib.metadata import distributions
from pathlib import Path

PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ ;\\]+)")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main() -> int:
    locked: dict[str, str] = {}
    for line in Path(sys.argv[1]).read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            locked[canonical(match[1])] = match[2]
    installed = {canonical(d.metadata["Name"]): d.version for d in distributions()}
    changed = sorted(
        (name, locked[name], version)
        for name, version in installed.items()
        if name in locked and locked[name] != version
    )
    added = sorted(set(installed) - set(locked) - {"drillbook", "pip", "setuptools"})
    if not changed and not added:
        print("newest-releases lane: every installed version matches the lock")
        return 0
    print(f"newest-releases lane: {len(changed)} version(s) differ from the lock:")
    for name, old, new in changed:
        print(f"  {name:<32} lock {old:<14} newest {new}")
    for name in added:
        print(f"  {name:<32} not in the lock (installed {installed[name]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
