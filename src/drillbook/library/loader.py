"""Load a whole library folder, collecting every problem before failing.

A library is a folder with ``drillbook.yaml`` and, optionally, ``inventory.yaml``,
``scenarios/*.yaml`` and ``drills/*.yaml``. :func:`load_library` reads the program and
every scenario; drills and the inventory are read by their own domains on demand, so a
broken drill file does not stop a tabletop.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from drillbook.config import LIBRARY_FILE
from drillbook.documents.validation import validate
from drillbook.documents.yaml_io import load_mapping, problem_at
from drillbook.domain.program.models import Program
from drillbook.domain.scenario.models import Scenario
from drillbook.errors import LibraryError, NotFoundError, Problem

SCENARIO_DIR = "scenarios"
DRILL_DIR = "drills"
YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class LoadedScenario:
    """A scenario with where it came from; ``document`` is the YAML as read (for export)."""

    scenario: Scenario
    path: Path
    document: Any
    builtin: bool = False


@dataclass
class Library:
    root: Path | None
    program: Program | None
    scenarios: dict[str, LoadedScenario] = field(default_factory=dict)

    def scenario(self, scenario_id: str) -> LoadedScenario:
        try:
            return self.scenarios[scenario_id]
        except KeyError:
            known = ", ".join(sorted(self.scenarios)[:8])
            raise NotFoundError(
                f"no scenario with id '{scenario_id}'"
                + (f"; known ids include {known}" if known else "")
                + " (see `drillbook scenario list`)"
            ) from None


def yaml_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.suffix in YAML_SUFFIXES and p.is_file())


def load_scenario_file(path: Path) -> LoadedScenario:
    document = load_mapping(path, "a scenario")
    scenario = validate(Scenario, document, path)
    return LoadedScenario(scenario, path, document)


def load_scenarios(
    paths: list[Path], *, builtin: bool = False
) -> tuple[dict[str, LoadedScenario], list[Problem]]:
    """Load every file, keeping the good ones and every problem of the bad ones."""
    found: dict[str, LoadedScenario] = {}
    problems: list[Problem] = []
    for path in paths:
        try:
            loaded = load_scenario_file(path)
        except LibraryError as exc:
            problems.extend(exc.problems)
            continue
        if builtin:
            loaded = LoadedScenario(loaded.scenario, path, loaded.document, builtin=True)
        sid = loaded.scenario.id
        if sid in found:
            problems.append(
                problem_at(
                    path,
                    loaded.document,
                    ("id",),
                    f"duplicate scenario id '{sid}' (also in {found[sid].path})",
                    "duplicate-id",
                )
            )
            continue
        found[sid] = loaded
    return found, problems


def load_program(root: Path) -> Program:
    """``drillbook.yaml`` of ``root``; every schema and reference problem, located."""
    path = root / LIBRARY_FILE
    document = load_mapping(path, LIBRARY_FILE)
    program = validate(Program, document, path)
    problems = program.reference_problems(path, document)
    if program.trackers:
        # Each tracker adapter owns its section's schema (imported here, only when a
        # library configures trackers: adapters load through entry points).
        from drillbook.trackers.registry import section_problems

        problems += section_problems(program.trackers, path, document)
    if program.notify:
        from drillbook.notify.settings import notify_problems

        problems += notify_problems(program.notify, path, document)
    if problems:
        raise LibraryError(problems)
    return program


def builtin_scenario_paths() -> list[Path]:
    """The scenarios shipped inside the package."""
    folder = resources.files("drillbook.library") / "builtin" / "scenarios"
    return yaml_files(Path(str(folder)))


def load_builtin() -> dict[str, LoadedScenario]:
    """The built-in scenarios (a fresh dict; the scenarios themselves are shared)."""
    return dict(_builtin_once())


@functools.cache
def _builtin_once() -> dict[str, LoadedScenario]:
    # Package data does not change while the process runs: parse and validate it once
    # (a web server or a test session asks on every request).
    scenarios, problems = load_scenarios(builtin_scenario_paths(), builtin=True)
    if problems:
        raise LibraryError(problems)
    return scenarios


def load_library(root: Path | None, *, include_builtin: bool = True) -> Library:
    """The program and all scenarios of ``root``; the built-in library fills in ids the
    user's library does not define. Raises :class:`LibraryError` listing every problem."""
    problems: list[Problem] = []
    program: Program | None = None
    scenarios: dict[str, LoadedScenario] = {}
    if include_builtin:
        scenarios.update(load_builtin())
    if root is not None:
        try:
            program = load_program(root)
        except LibraryError as exc:
            problems.extend(exc.problems)
        own, own_problems = load_scenarios(yaml_files(root / SCENARIO_DIR))
        problems.extend(own_problems)
        scenarios.update(own)
    if problems:
        raise LibraryError(problems)
    return Library(root=root, program=program, scenarios=scenarios)
