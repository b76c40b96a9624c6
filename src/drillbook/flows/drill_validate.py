"""``drill validate``: a plan's mistakes as located errors, and what each technique would
do under its profile (an explanation, not the enforcement: the sandbox enforces).

Loading a plan only checks its shape. A plan can still name an atomic that is not in the
atomics folder, a test number past the last test, an input argument the test does not
have (a typo silently keeps the default) or a ``sigma_rule`` file that does not exist
(the detection check would fail after the drill ran). Each of these is reported at its
line in the plan, all at once, so the operator fixes them before detonating anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drillbook.documents.yaml_io import load_file, problem_at
from drillbook.domain.drill.plan import AtomicTechnique
from drillbook.errors import LibraryError, NotFoundError, Problem
from drillbook.executors.atomics import AtomicsFolder
from drillbook.executors.safety import explanation
from drillbook.flows.drill_decide import is_contained
from drillbook.flows.drill_run import Prepared, prepare_plan


@dataclass
class TechniqueCheck:
    plan: str
    technique: str
    name: str
    decision: str
    reason: str | None
    contained: bool
    explanation: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "technique": self.technique,
            "name": self.name,
            "decision": self.decision,
            "reason": self.reason,
            "contained": self.contained,
            "explanation": self.explanation,
        }


def _atomic_problems(
    path: Path, root: Any, prefix: tuple[Any, ...], entry: AtomicTechnique, atomics: AtomicsFolder
) -> list[Problem]:
    if not atomics.exists():
        return []  # said once by the caller's not-runnable reason, not per technique
    where = (*prefix, "atomic")
    try:
        atomics.tests(entry.atomic)
    except NotFoundError:
        message = f"atomic {entry.atomic} is not in the atomics folder {atomics.root}"
        return [problem_at(path, root, where, message, "unknown-atomic")]
    except LibraryError as exc:
        return list(exc.problems)
    try:
        ref = atomics.find(entry.atomic, entry.test)
    except NotFoundError as exc:
        return [problem_at(path, root, (*prefix, "test"), str(exc), "unknown-test")]
    known = set(ref.test.input_arguments)
    problems = []
    for name in entry.inputs:
        if name not in known:
            names = ", ".join(sorted(known)) or "none"
            problems.append(
                problem_at(
                    path,
                    root,
                    (*prefix, "inputs", name),
                    f"{ref.key} has no input argument {name!r} (it has: {names})",
                    "unknown-input",
                    key=True,
                )
            )
    return problems


def _rule_problems(
    path: Path,
    root: Any,
    prefix: tuple[Any, ...],
    detections: list[Any],
    rule_roots: list[Path],
) -> list[Problem]:
    problems = []
    for number, detection in enumerate(detections):
        rule = detection.sigma_rule
        if not rule:
            continue
        candidate = Path(rule).expanduser()
        places = [candidate] if candidate.is_absolute() else [r / candidate for r in rule_roots]
        if any(p.is_file() for p in places):
            continue
        looked = ", ".join(str(p) for p in places)
        where = (*prefix, "expected_detection", number, "sigma_rule")
        if isinstance(detection_node(root, prefix), dict):
            where = (*prefix, "expected_detection", "sigma_rule")
        problems.append(
            problem_at(
                path,
                root,
                where,
                f"sigma_rule file {rule} not found (looked at {looked})",
                "missing-rule",
            )
        )
    return problems


def detection_node(root: Any, prefix: tuple[Any, ...]) -> Any:
    """The raw ``expected_detection`` value (a mapping is a one-item list)."""
    node = root
    for part in prefix:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node.get("expected_detection") if isinstance(node, dict) else None


def plan_problems(prepared: Prepared, atomics: Path, rule_roots: list[Path]) -> list[Problem]:
    """Located errors a plan's shape check cannot see (see the module docstring)."""
    path = prepared.loaded.path
    root = load_file(path)
    folder = AtomicsFolder(atomics)
    problems: list[Problem] = []
    for index, entry in enumerate(prepared.loaded.techniques):
        prefix: tuple[Any, ...] = (index,) if isinstance(root, list) else ("techniques", index)
        if isinstance(entry, AtomicTechnique):
            problems += _atomic_problems(path, root, prefix, entry, folder)
        problems += _rule_problems(path, root, prefix, list(entry.expected_detection), rule_roots)
    return problems


def rule_roots(library: Path | None) -> list[Path]:
    """Where the detection check looks for a relative ``sigma_rule``: the working
    directory, then the library's ``rules_dir``."""
    from drillbook.detection.config import library_detection_config
    from drillbook.detection.siem import rules_base

    roots = [Path.cwd()]
    base = rules_base(library_detection_config(library), library)
    if base is not None:
        roots.append(base)
    return roots


def validate_plan(
    plan_path: Path, *, atomics: Path | None, library: Path | None
) -> tuple[list[TechniqueCheck], list[Problem]]:
    """What each technique would do, and the plan's located problems."""
    from drillbook.flows.drill_run import resolve_atomics

    prepared = prepare_plan(plan_path, atomics=atomics, library=library)
    folder = resolve_atomics(atomics, library)
    problems = plan_problems(prepared, folder, rule_roots(library))
    checks = []
    for (tech, executor), (decision, reason) in zip(
        prepared.techniques, prepared.decisions, strict=True
    ):
        contained = is_contained(executor, prepared.loaded)
        checks.append(
            TechniqueCheck(
                plan=str(prepared.loaded.path),
                technique=tech.technique,
                name=tech.name,
                decision="will run" if reason is None else decision.value,
                reason=reason,
                contained=contained,
                explanation=explanation(tech.assessment) if tech.assessment else None,
            )
        )
    return checks, problems
