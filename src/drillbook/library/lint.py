"""``drillbook lint``: every problem in a library, errors and warnings, in one pass.

Loading (:mod:`drillbook.library.loader`) stops a command at the first bad library;
lint goes further and adds the checks a reviewer would make (:mod:`lint_rules`), keeps
going past every broken file, and reports everything it found located as
``path:line:column``. Only errors fail a lint; warnings fail it under ``--strict``.

The codes each check reports are listed in ``docs/lint.md``.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from drillbook.config import LIBRARY_FILE
from drillbook.domain.inventory.service import load_inventory
from drillbook.domain.program.models import Cadence, Program
from drillbook.errors import LibraryError, Location, Problem
from drillbook.library.durations import parse_duration
from drillbook.library.lint_rules import ScenarioContext, check_scenario
from drillbook.library.loader import (
    INVENTORY_FILE,
    SCENARIO_DIR,
    LoadedScenario,
    builtin_scenario_paths,
    load_program,
    load_scenarios,
    yaml_files,
)
from drillbook.library.revisions import record_revisions
from drillbook.library.yaml_io import problem_at
from drillbook.storage.engine import Store


@dataclass(frozen=True)
class FindingRepeat:
    """A finding that came back in more than one run of the same scenario.

    Filled in by the findings domain (see :data:`FindingRepeatSource`); ``first_seen`` is
    when the finding was first recorded, ``runs`` how many runs recorded it.
    """

    scenario_id: str
    finding: str
    runs: int
    first_seen: datetime


FindingRepeatSource = Callable[[str], Sequence[FindingRepeat]]
"""Given a scenario id, the findings that repeat across its runs. The extension point for
the "scenario unchanged while its findings repeat" check; the findings domain provides it
through :data:`FINDING_REPEATS_HOOK`, looked up by name so that the library (which every
domain builds on) never imports a domain above it."""


def no_finding_repeats(scenario_id: str) -> Sequence[FindingRepeat]:
    """The source without a store (or without the findings domain): nothing can repeat."""
    return ()


FINDING_REPEATS_HOOK = ("drillbook.domain.finding.service", "finding_repeats")
"""Where lint looks for the findings domain's source: a function
``finding_repeats(store: Store) -> FindingRepeatSource``. Absent, the check is a no-op."""


def finding_repeats_from(store: Store) -> FindingRepeatSource:
    """The findings domain's repeat source for ``store``, when it provides one."""
    module_name, function_name = FINDING_REPEATS_HOOK
    if importlib.util.find_spec(module_name) is None:
        return no_finding_repeats
    factory = getattr(importlib.import_module(module_name), function_name, None)
    if not callable(factory):
        return no_finding_repeats
    source: FindingRepeatSource = factory(store)
    return source


def repeat_findings_check(
    loaded: LoadedScenario,
    repeats: Sequence[FindingRepeat],
    changed_at: datetime | None,
) -> list[Problem]:
    """Warn when findings keep repeating while the scenario has not changed.

    The second seed's "tabletop becomes theatre" failure mode: the same scenario run
    twice, the same gaps found, no improvement. ``changed_at`` is when the scenario's
    current content was first seen (from the ``scenario_revisions`` table), or None when
    unknown; a repeat counts only when the content is older than the finding's first
    appearance, i.e. nobody changed the scenario after the gap showed up.
    """
    problems = []
    for repeat in repeats:
        if repeat.runs < 2:
            continue
        if changed_at is not None and changed_at > repeat.first_seen:
            continue
        problems.append(
            problem_at(
                loaded.path,
                loaded.document,
                ("id",),
                f"finding '{repeat.finding}' repeated in {repeat.runs} runs while the scenario "
                "stayed unchanged; vary the scenario or make sure the finding drives work",
                "findings-repeat",
                level="warning",
            )
        )
    return problems


@dataclass
class LintReport:
    """Every problem found, and what was looked at."""

    problems: list[Problem] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)
    scenarios: dict[str, LoadedScenario] = field(default_factory=dict)
    program: Program | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.level == "warning"]

    def failed(self, *, strict: bool = False) -> bool:
        return bool(self.errors) or (strict and bool(self.warnings))

    def by_file(self) -> dict[str, list[Problem]]:
        grouped: dict[str, list[Problem]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.location.path, []).append(problem)
        return grouped

    def as_dict(self) -> dict[str, object]:
        return {
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "files": len(self.files),
            "scenarios": len(self.scenarios),
            "problems": [p.as_dict() for p in self.problems],
        }


def _review_every(program: Program | None) -> timedelta:
    cadence = program.cadence if program is not None else Cadence()
    return parse_duration(cadence.review_library_every)


def _lint_program(root: Path, report: LintReport) -> None:
    path = root / LIBRARY_FILE
    report.files.append(path)
    if not path.is_file():
        report.problems.append(
            Problem(
                Location(str(path)),
                f"{LIBRARY_FILE} not found: every library needs one (`drillbook init`)",
                "missing-file",
            )
        )
        return
    try:
        report.program = load_program(root)
    except LibraryError as exc:
        report.problems.extend(exc.problems)


def _lint_inventory(root: Path, report: LintReport) -> None:
    """``inventory.yaml`` is optional (only planning reads it); when present it must load."""
    path = root / INVENTORY_FILE
    if not path.is_file():
        return
    report.files.append(path)
    try:
        load_inventory(path)
    except LibraryError as exc:
        report.problems.extend(exc.problems)


def lint_library(
    root: Path | None,
    *,
    include_builtin: bool,
    today: date,
    store: Store | None = None,
    finding_repeats: FindingRepeatSource | None = None,
) -> LintReport:
    """Lint the library at ``root`` (and/or the built-in scenarios); never raises for a
    problem in the files: every problem is in the report.

    With a ``store``, each scenario's content hash is recorded in ``scenario_revisions``
    (see :mod:`drillbook.library.revisions`). ``finding_repeats`` feeds
    :func:`repeat_findings_check`; by default it comes from the findings domain's hook
    (:data:`FINDING_REPEATS_HOOK`) when there is a store, and is a no-op otherwise.
    A library scenario may reuse a built-in id on purpose (it replaces the built-in),
    so duplicates are only checked within each source.
    """
    report = LintReport()
    own: dict[str, LoadedScenario] = {}
    if root is not None:
        _lint_program(root, report)
        _lint_inventory(root, report)
        paths = yaml_files(root / SCENARIO_DIR)
        own, problems = load_scenarios(paths)
        report.files.extend(paths)
        report.problems.extend(problems)
    if include_builtin:
        paths = builtin_scenario_paths()
        builtins, problems = load_scenarios(paths, builtin=True)
        report.files.extend(paths)
        report.problems.extend(problems)
        report.scenarios.update(builtins)
    report.scenarios.update(own)
    review_every = _review_every(report.program)
    first_seen = record_revisions(store, report.scenarios.values()) if store else {}
    if finding_repeats is None:
        finding_repeats = finding_repeats_from(store) if store else no_finding_repeats
    for loaded in report.scenarios.values():
        ctx = ScenarioContext(loaded=loaded, today=today, review_every=review_every)
        report.problems.extend(check_scenario(ctx))
        repeats = finding_repeats(loaded.scenario.id)
        if repeats:
            since = first_seen.get(loaded.scenario.id)
            report.problems.extend(repeat_findings_check(loaded, repeats, since))
    report.problems.sort(key=lambda p: (p.location, p.code, p.message))
    return report
