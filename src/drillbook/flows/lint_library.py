"""``drillbook lint``: every problem in a library, errors and warnings, in one pass.

Loading (:mod:`drillbook.library.loader`) stops a command at the first bad library;
lint goes further and adds the checks a reviewer would make (:mod:`lint_rules`), keeps
going past every broken file, and reports everything it found located as
``path:line:column``. Only errors fail a lint; warnings fail it under ``--strict``.

The codes each check reports are listed in ``docs/lint.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from drillbook.config import INVENTORY_FILE, LIBRARY_FILE
from drillbook.documents.durations import parse_duration
from drillbook.documents.yaml_io import problem_at
from drillbook.domain.finding.repeats import FindingRepeat, FindingRepeatSource
from drillbook.domain.finding.repeats_store import StoredRepeats
from drillbook.domain.finding.service import finding_repeats as store_finding_repeats
from drillbook.domain.inventory.service import load_inventory
from drillbook.domain.program.models import Cadence, Program
from drillbook.errors import LibraryError, Location, Problem
from drillbook.flows.lint_rules import ScenarioContext, check_scenario
from drillbook.flows.scenario_revisions import record_revisions
from drillbook.library.loader import (
    SCENARIO_DIR,
    LoadedScenario,
    builtin_scenario_paths,
    load_builtin,
    load_program,
    load_scenarios,
    yaml_files,
)
from drillbook.storage.engine import Store


def _no_finding_repeats(scenario_id: str) -> Sequence[FindingRepeat]:
    """Without a store nothing can repeat."""
    return ()


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


def _builtin_scenarios(paths: list[Path]) -> tuple[dict[str, LoadedScenario], list[Problem]]:
    """The built-in scenarios and their problems: those the process has loaded already
    (package data does not change while it runs: a server or a second command in one
    process parses them once), read again only to list the problems of a broken one."""
    try:
        return load_builtin(), []
    except LibraryError:
        return load_scenarios(paths, builtin=True)


def lint_library(
    root: Path | None,
    *,
    include_builtin: bool,
    today: date,
    store: Store | None = None,
    finding_repeats: FindingRepeatSource | None = None,
    also: Callable[[LintReport], None] | None = None,
) -> LintReport:
    """Lint the library at ``root`` (and/or the built-in scenarios); never raises for a
    problem in the files: every problem is in the report.

    With a ``store``, each scenario's content hash is recorded in ``scenario_revisions``
    (see :mod:`drillbook.flows.scenario_revisions`). ``finding_repeats`` feeds
    :func:`repeat_findings_check`; by default it is the findings domain's lookup over
    ``store`` (:func:`drillbook.domain.finding.service.finding_repeats`) when there is a
    store, and nothing repeats otherwise.
    ``also`` adds the caller's own checks to the report once the files are read; they
    run before the repeats are asked for, while the database may still be reading.
    A library scenario may reuse a built-in id on purpose (it replaces the built-in),
    so duplicates are only checked within each source.
    """
    report = LintReport()
    own: dict[str, LoadedScenario] = {}
    stored: FindingRepeatSource | None = None
    if finding_repeats is None and store is not None:
        # the database groups the findings while the files below are read
        finding_repeats = stored = store_finding_repeats(store, early=True)
    try:
        if root is not None:
            _lint_program(root, report)
            _lint_inventory(root, report)
            paths = yaml_files(root / SCENARIO_DIR)
            own, problems = load_scenarios(paths)
            report.files.extend(paths)
            report.problems.extend(problems)
        if include_builtin:
            paths = builtin_scenario_paths()
            builtins, problems = _builtin_scenarios(paths)
            report.files.extend(paths)
            report.problems.extend(problems)
            report.scenarios.update(builtins)
        report.scenarios.update(own)
        review_every = _review_every(report.program)
        first_seen = record_revisions(store, report.scenarios.values()) if store else {}
        if finding_repeats is None:
            finding_repeats = _no_finding_repeats
        for loaded in report.scenarios.values():
            ctx = ScenarioContext(loaded=loaded, today=today, review_every=review_every)
            report.problems.extend(check_scenario(ctx))
        if also is not None:
            also(report)
        # asked last: Python's share of the repeat check does not wait for the database
        for loaded in report.scenarios.values():
            repeats = finding_repeats(loaded.scenario.id)
            if repeats:
                since = first_seen.get(loaded.scenario.id)
                report.problems.extend(repeat_findings_check(loaded, repeats, since))
        if isinstance(stored, StoredRepeats):
            stored.wait()  # asked nothing (no scenario): the thread still ends here
    finally:
        if isinstance(stored, StoredRepeats):
            stored.release()  # lint stopped early: the thread ends on its own
    report.problems.sort(key=lambda p: (p.location, p.code, p.message))
    return report
