"""The committed lock (requirements/lock.txt) still satisfies pyproject.toml's ranges, pins
every package with hashes, and is what the Makefile installs."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from tests.helpers import ROOT

LOCK = ROOT / "requirements" / "lock.txt"
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^ ;\\]+)(?P<rest>.*)$")


@dataclass(frozen=True)
class Pin:
    name: str
    version: Version
    hashes: int


def _pins() -> dict[str, list[Pin]]:
    """Every pinned package in the lock (a name may appear once per marker)."""
    pins: dict[str, list[Pin]] = {}
    current: list[Pin] = []
    name = ""
    version = Version("0")
    hashes = 0
    for line in [*LOCK.read_text(encoding="utf-8").splitlines(), "end==0"]:
        match = _PIN.match(line)
        if match:
            if name:
                current.append(Pin(name, version, hashes))
            name = canonicalize_name(match["name"])
            version = Version(match["version"])
            hashes = 0
        elif "--hash=sha256:" in line:
            hashes += 1
    for pin in current:
        pins.setdefault(pin.name, []).append(pin)
    return pins


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    texts = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        texts.extend(extra)
    requirements = [Requirement(text) for text in texts]
    return [r for r in requirements if canonicalize_name(r.name) != "drillbook"]


def test_the_lock_exists_and_pins_with_hashes() -> None:
    pins = _pins()
    assert len(pins) > 30
    unhashed = [p.name for group in pins.values() for p in group if p.hashes == 0]
    assert not unhashed, f"pinned without a hash: {unhashed}"


def test_every_declared_requirement_is_locked_within_its_range() -> None:
    pins = _pins()
    problems = []
    for requirement in _declared():
        name = canonicalize_name(requirement.name)
        if name not in pins:
            problems.append(f"{requirement} is not in the lock (run `make lock`)")
            continue
        if not any(requirement.specifier.contains(p.version, prereleases=True) for p in pins[name]):
            found = ", ".join(str(p.version) for p in pins[name])
            problems.append(f"{requirement} but the lock pins {found} (run `make lock`)")
    assert not problems, "\n".join(problems)


def test_the_lock_names_no_index_host() -> None:
    """Installs go through whatever index pip is configured for (a mirror, a proxy)."""
    text = LOCK.read_text(encoding="utf-8")
    assert "--index-url" not in text
    assert "://" not in text


def test_make_installs_from_the_lock_and_follows_it() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "$(STAMP): pyproject.toml $(LOCK)" in makefile
    assert "--require-hashes -r $(LOCK)" in makefile
    assert "requirements/lock.txt" in makefile
