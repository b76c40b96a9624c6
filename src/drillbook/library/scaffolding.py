"""``drillbook init``: scaffold a library that lints clean.

The templates are package data under ``library/scaffold/`` (so a user can read exactly
what will be written). Scenarios come from the built-in library, copied byte for byte so
that comments survive; when the built-ins are not installed the scaffold's own
seed-shaped example is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from drillbook.config import INVENTORY_FILE, LIBRARY_FILE
from drillbook.errors import ConflictError, LibraryError, NotFoundError
from drillbook.library.loader import (
    DRILL_DIR,
    SCENARIO_DIR,
    LoadedScenario,
    load_builtin,
)

GITIGNORE_LINE = ".drillbook/"


@dataclass
class ScaffoldResult:
    root: Path
    written: list[Path] = field(default_factory=list)
    scenarios: list[str] = field(default_factory=list)


# The starter drill and the detection it expects: safe, read-only, and runnable on the
# embedded default (the local Sigma engine) with nothing else installed.
STARTER_FILES = (
    (DRILL_DIR, "README.md"),
    (DRILL_DIR, "host-discovery.yaml"),
    ("detections/linux", "uname-all-discovery.yml"),
)


def _templates() -> Traversable:
    return resources.files("drillbook.library") / "scaffold"


def gentlest_builtin(builtins: dict[str, LoadedScenario]) -> LoadedScenario | None:
    """The scenario for a first tabletop (:attr:`Scenario.gentleness`); the shorter one
    among equals, since a new team's first session should not run long."""
    return min(
        builtins.values(),
        key=lambda loaded: (
            *loaded.scenario.gentleness,
            loaded.scenario.duration_minutes,
            loaded.scenario.id,
        ),
        default=None,
    )


def _write(path: Path, data: bytes, result: ScaffoldResult) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    result.written.append(path)


def _write_new(path: Path, data: bytes, result: ScaffoldResult, *, force: bool) -> bool:
    """Write ``path`` unless it exists: a folder may already hold the user's own files
    (an inventory, an edited scenario) without a ``drillbook.yaml``; only ``--force``
    replaces them."""
    if path.exists() and not force:
        return False
    _write(path, data, result)
    return True


def _gitignore(root: Path, result: ScaffoldResult) -> None:
    path = root / ".gitignore"
    template = (_templates() / "gitignore").read_text(encoding="utf-8")
    if path.exists():
        current = path.read_text(encoding="utf-8")
        if GITIGNORE_LINE in current.split():
            return
        text = current + ("" if current.endswith("\n") or not current else "\n") + template
    else:
        text = template
    _write(path, text.encode("utf-8"), result)


def scaffold(
    root: Path, *, builtin_ids: list[str] | None = None, force: bool = False
) -> ScaffoldResult:
    """Write a new library into ``root``; refuse to overwrite ``drillbook.yaml`` unless
    ``force``. ``builtin_ids`` picks the scenarios to copy (default: the gentlest one)."""
    root = root.expanduser()
    program = root / LIBRARY_FILE
    if program.exists() and not force:
        raise ConflictError(
            f"{program} already exists; drillbook init will not overwrite a library "
            "(pass --force to replace its files)"
        )
    if root.exists() and not root.is_dir():
        raise ConflictError(f"{root} exists and is not a folder")
    try:
        builtins = load_builtin()
    except LibraryError:
        if builtin_ids:
            raise
        builtins = {}  # a broken built-in never blocks a new library; lint reports it
    chosen: list[LoadedScenario] = []
    for sid in builtin_ids or []:
        if sid not in builtins:
            known = ", ".join(sorted(builtins)) or "none installed"
            raise NotFoundError(f"no built-in scenario '{sid}' (built-in ids: {known})")
        chosen.append(builtins[sid])
    if not builtin_ids:
        gentle = gentlest_builtin(builtins)
        if gentle is not None:
            chosen.append(gentle)

    result = ScaffoldResult(root=root)
    templates = _templates()
    _write(program, templates.joinpath(LIBRARY_FILE).read_bytes(), result)
    _write_new(
        root / INVENTORY_FILE, templates.joinpath(INVENTORY_FILE).read_bytes(), result, force=force
    )
    scenarios = root / SCENARIO_DIR
    if chosen:
        for loaded in chosen:
            target = scenarios / loaded.path.name
            if _write_new(target, loaded.path.read_bytes(), result, force=force):
                result.scenarios.append(loaded.scenario.id)
    else:
        for entry in templates.joinpath(SCENARIO_DIR).iterdir():
            if entry.name.endswith(".yaml"):
                target = scenarios / entry.name
                if _write_new(target, entry.read_bytes(), result, force=force):
                    result.scenarios.append(entry.name.removesuffix(".yaml"))
    for folder, name in STARTER_FILES:
        data = templates.joinpath(folder, name).read_bytes()
        _write_new(root / folder / name, data, result, force=force)
    _gitignore(root, result)
    return result
