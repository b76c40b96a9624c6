"""``drillbook lint [PATH...]``: the whole library, or the files and folders given.

:func:`drillbook.flows.lint_library.lint_library` checks scenarios, ``drillbook.yaml``'s core
and the inventory; this flow adds what crosses domains and adapters:

- every section of ``drillbook.yaml`` against a strict model (:class:`ProgramDocument`:
  unknown keys are errors, and ``detection.backend`` must name an installed backend, so
  a misspelt ``splnuk`` fails here, not later at ``drill score``);
- every file in ``drills/``: a plan (everything ``drill validate`` checks, and that each
  ``sigma_rule`` file exists) or a safety profile file;
- a single file given on the command line, by its kind (where it lives, or its shape).

Every problem is located as ``path:line:column``; :func:`sarif` writes the report for
code-scanning UIs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from functools import partial
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from drillbook import __version__
from drillbook.config import INVENTORY_FILE, LIBRARY_FILE
from drillbook.detection.config import DetectionConfig
from drillbook.documents.validation import validate
from drillbook.documents.yaml_io import load_file, problem_at
from drillbook.domain.drill.plan import DrillPlan, TechniqueList
from drillbook.domain.drill.planfile import load_plan, load_safety_profile
from drillbook.domain.program.models import Program
from drillbook.errors import ConfigError, DrillbookError, LibraryError, Location, Problem
from drillbook.flows.lint_library import LintReport, lint_library
from drillbook.flows.lint_rules import ScenarioContext, check_scenario
from drillbook.library.loader import (
    DRILL_DIR,
    load_scenarios,
    yaml_files,
)
from drillbook.storage.engine import Store

REVIEW_EVERY = timedelta(weeks=13)  # a lone scenario file has no drillbook.yaml cadence
KNOWN_TRACKERS = ("jira", "linear", "github")
KNOWN_NOTIFIERS = ("webhook", "email", "slack")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LlmConfig(_Strict):
    """``llm:``: the OpenAI-compatible endpoint ``scenario generate --llm`` may use (the
    key itself stays in the environment variable it names)."""

    url: str | None = Field(default=None, description="Endpoint base URL.")
    model: str | None = None
    api_key_env: str | None = Field(default=None, description="Env var holding the key.")
    timeout_seconds: float = Field(default=60.0, gt=0)


class ProgramDocument(Program):
    """``drillbook.yaml`` with every section strict: what lint and the schema check."""

    detection: DetectionConfig = Field(default_factory=DetectionConfig)  # type: ignore[assignment]
    llm: LlmConfig = Field(default_factory=LlmConfig)  # type: ignore[assignment]
    trackers: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description=f"One section per tracker: {', '.join(KNOWN_TRACKERS)}."
    )
    notify: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description=f"One section per channel: {', '.join(KNOWN_NOTIFIERS)}.",
    )


def _installed(*groups: str) -> dict[str, list[str]]:
    """The names installed in each entry-point group, read in one pass (each group
    asked for separately read every installed package's entry points again)."""
    points = entry_points()
    return {group: [ep.name for ep in points.select(group=group)] for group in groups}


def _names(installed: Mapping[str, list[str]], group: str, built_in: Sequence[str]) -> list[str]:
    return sorted({*built_in, *installed[group]})


def lint_program_sections(path: Path) -> list[Problem]:
    """Strict validation of every ``drillbook.yaml`` section, located."""
    try:
        document = load_file(path)
    except LibraryError as exc:
        return list(exc.problems)
    problems: list[Problem] = []
    try:
        validate(ProgramDocument, document, path)
    except LibraryError as exc:
        problems += exc.problems
    if not isinstance(document, Mapping):
        return problems
    detection = document.get("detection") or {}
    installed = _installed("drillbook.detection", "drillbook.trackers", "drillbook.notify")
    backends = _names(installed, "drillbook.detection", ())
    backend = detection.get("backend") if isinstance(detection, Mapping) else None
    if backend is not None and backend not in backends:
        problems.append(
            problem_at(
                path,
                document,
                ("detection", "backend"),
                f"unknown detection backend '{backend}'; installed: {', '.join(backends)}",
                "unknown-backend",
            )
        )
    for section, known in (
        ("trackers", _names(installed, "drillbook.trackers", KNOWN_TRACKERS)),
        ("notify", _names(installed, "drillbook.notify", KNOWN_NOTIFIERS)),
    ):
        for name in document.get(section) or {}:
            if name not in known:
                problems.append(
                    problem_at(
                        path,
                        document,
                        (section, name),
                        f"unknown {section} entry '{name}'; known: {', '.join(known)}",
                        "unknown-key",
                        key=True,
                    )
                )
    return problems


def _rules_root(root: Path | None) -> Path | None:
    if root is None or not (root / LIBRARY_FILE).is_file():
        return root
    try:
        config = validate(ProgramDocument, load_file(root / LIBRARY_FILE), root).detection
    except LibraryError:
        return root
    return root / config.rules_dir if config.rules_dir else root


def _is_safety_profile(document: Any) -> bool:
    return isinstance(document, Mapping) and set(document) == {"safety"}


def lint_drill_file(path: Path, library: Path | None) -> list[Problem]:
    """A plan (loaded, resolved and decided as ``drill validate`` does, every
    ``sigma_rule`` file present) or a safety profile file."""
    try:
        document = load_file(path)
        if _is_safety_profile(document):
            load_safety_profile(path)
            return []
        load_plan(path)
    except LibraryError as exc:
        problems = list(exc.problems)
    else:
        problems = _validate_like_drill_validate(path, library)
    return problems + _missing_rules(path, document, library)


def _techniques(document: Any, path: Path) -> list[Any]:
    """The plan's techniques, even when its safety profile (another file) is broken."""
    try:
        if isinstance(document, list):
            return list(validate(TechniqueList, document, path).root)
        return list(validate(DrillPlan, document, path).techniques)
    except LibraryError:
        return []


def _missing_rules(path: Path, document: Any, library: Path | None) -> list[Problem]:
    problems = []
    base = _rules_root(library)
    for t_index, technique in enumerate(_techniques(document, path)):
        for d_index, expected in enumerate(technique.expected_detection):
            rule = expected.sigma_rule
            if not rule:
                continue
            candidates = [Path(rule)] if Path(rule).is_absolute() else []
            candidates += [folder / rule for folder in (base, library, path.parent) if folder]
            if not any(c.is_file() for c in candidates):
                detections: tuple[str | int, ...] = ("techniques", t_index, "expected_detection")
                where: tuple[str | int, ...] = (*detections, d_index, "sigma_rule")
                if isinstance(document, Mapping) and isinstance(_at(document, detections), Mapping):
                    where = (*detections, "sigma_rule")
                if isinstance(document, list):
                    where = where[1:]
                problems.append(
                    problem_at(
                        path,
                        document,
                        where,
                        f"sigma_rule file {rule} not found (looked in "
                        f"{', '.join(str(c.parent) for c in candidates)})",
                        "missing-rule",
                    )
                )
    return problems


def _at(document: Any, loc: Sequence[str | int]) -> Any:
    node = document
    for key in loc:
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _validate_like_drill_validate(path: Path, library: Path | None) -> list[Problem]:
    """What ``drill validate`` adds to loading: executors prepare every technique (the
    atomics exist, the command can be built). A missing atomics folder is not a library
    problem (it lives on the drill host), so it is skipped here."""
    from drillbook.flows.drill_run import prepare_plan

    try:
        prepare_plan(path, atomics=None, library=library)
    except LibraryError as exc:
        return list(exc.problems)
    except (ConfigError, DrillbookError):
        return []
    return []


def _kind(path: Path, document: Any) -> str:
    if path.name in (LIBRARY_FILE, "drillbook.yml"):
        return "program"
    if path.name in (INVENTORY_FILE, "inventory.yml"):
        return "inventory"
    folders = {p.name for p in path.parents}
    if DRILL_DIR in folders or isinstance(document, list) or _is_safety_profile(document):
        return "drill"
    if isinstance(document, Mapping) and "techniques" in document:
        return "drill"
    return "scenario"


def _library_of(path: Path) -> Path | None:
    """The library a lone file belongs to: the nearest folder above with drillbook.yaml."""
    for folder in path.resolve().parents:
        if (folder / LIBRARY_FILE).is_file():
            return folder
    return None


def lint_file(path: Path, library: Path | None, today: date, report: LintReport) -> None:
    report.files.append(path)
    library = library or (_library_of(path) if str(path) != "-" else None)
    try:
        document = load_file(path)
    except LibraryError as exc:
        report.problems.extend(exc.problems)
        return
    kind = _kind(path, document)
    if kind == "program":
        report.problems.extend(_program_problems(path))
    elif kind == "inventory":
        from drillbook.domain.inventory.service import load_inventory

        try:
            load_inventory(path)
        except LibraryError as exc:
            report.problems.extend(exc.problems)
    elif kind == "drill":
        report.problems.extend(lint_drill_file(path, library))
    else:
        loaded, problems = load_scenarios([path])
        report.problems.extend(problems)
        for scenario in loaded.values():
            report.scenarios[scenario.scenario.id] = scenario
            ctx = ScenarioContext(loaded=scenario, today=today, review_every=REVIEW_EVERY)
            report.problems.extend(check_scenario(ctx))


def _program_problems(path: Path) -> list[Problem]:
    from drillbook.library.loader import load_program

    problems: list[Problem] = []
    try:
        load_program(path.parent)
    except LibraryError as exc:
        problems.extend(exc.problems)
    seen = {(p.location, p.message) for p in problems}
    problems += [p for p in lint_program_sections(path) if (p.location, p.message) not in seen]
    return problems


def lint_paths(
    paths: Sequence[Path],
    *,
    library: Path | None,
    include_builtin: bool,
    today: date,
    store: Store | None = None,
) -> LintReport:
    """Lint the library (no paths), or each path: a library folder (with drillbook.yaml)
    fully, another folder's YAML files by kind, a file by kind."""
    if not paths:
        report = lint_library(
            library,
            include_builtin=include_builtin,
            today=today,
            store=store,
            also=None if library is None else partial(_extend_library, root=library),
        )
        _dedupe(report)
        return report
    report = LintReport()
    for path in paths:
        if path.is_dir() and (path / LIBRARY_FILE).is_file():
            part = lint_library(
                path,
                include_builtin=False,
                today=today,
                store=store,
                also=partial(_extend_library, root=path),
            )
            report.problems += part.problems
            report.files += part.files
            report.scenarios.update(part.scenarios)
        elif path.is_dir():
            for file in yaml_files(path):
                lint_file(file, library, today, report)
        elif path.is_file() or str(path) == "-":
            lint_file(path, library, today, report)
        else:
            report.problems.append(
                Problem(Location(str(path)), "no such file or folder", "missing")
            )
    _dedupe(report)
    return report


def _extend_library(report: LintReport, root: Path) -> None:
    program = root / LIBRARY_FILE
    if program.is_file():
        report.problems += lint_program_sections(program)
    for file in yaml_files(root / DRILL_DIR):
        report.files.append(file)
        report.problems += lint_drill_file(file, root)


def _dedupe(report: LintReport) -> None:
    unique: dict[tuple[Location, str, str], Problem] = {}
    for problem in report.problems:
        unique.setdefault((problem.location, problem.code, problem.message), problem)
    report.problems = sorted(unique.values(), key=lambda p: (p.location, p.code, p.message))


def sarif(report: LintReport, base: Path | None = None) -> dict[str, Any]:
    """The report as SARIF 2.1.0, the format code-scanning UIs read."""
    codes = sorted({p.code for p in report.problems})
    results = []
    for problem in report.problems:
        uri = problem.location.path
        if base is not None:
            with contextlib.suppress(ValueError):  # outside base: keep the path as given
                uri = str(Path(uri).resolve().relative_to(base.resolve()))
        region = (
            {"startLine": problem.location.line, "startColumn": max(problem.location.column, 1)}
            if problem.location.line > 0
            else None
        )
        physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
        if region:
            physical["region"] = region
        results.append(
            {
                "ruleId": problem.code,
                "ruleIndex": codes.index(problem.code),
                "level": problem.level,
                "message": {"text": problem.message},
                "locations": [{"physicalLocation": physical}],
            }
        )
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "drillbook",
                        "version": __version__,
                        "rules": [
                            {"id": code, "shortDescription": {"text": code.replace("-", " ")}}
                            for code in codes
                        ],
                    }
                },
                "results": results,
            }
        ],
    }
