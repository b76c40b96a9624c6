"""Reading drill plans and safety profiles from YAML, with located errors.

Three file forms are accepted:

* a plan mapping (``name``, ``target``, ``safety``, ``techniques``);
* the seed's ``atomic-runner.yml``: a top-level list of techniques, which becomes a plan
  named after the file, on this host, under the default safety profile;
* the seed's safety profile file: a mapping holding ``safety:``, referenced from a plan as
  ``safety: safety-profile.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from drillbook.documents.validation import validate
from drillbook.documents.yaml_io import load_file, load_mapping, problem_at
from drillbook.domain.drill.plan import (
    DrillPlan,
    SafetyProfile,
    SafetyProfileFile,
    Technique,
    TechniqueList,
)
from drillbook.errors import LibraryError, Location


@dataclass(frozen=True)
class LoadedPlan:
    """A validated plan, where it came from, and its resolved safety profile."""

    plan: DrillPlan
    path: Path
    safety: SafetyProfile

    @property
    def techniques(self) -> list[Technique]:
        return list(self.plan.techniques)


def load_safety_profile(path: Path) -> SafetyProfile:
    """A safety profile file (the seed's shape: ``safety:`` at the top)."""
    root = load_mapping(path, "a safety profile")
    return validate(SafetyProfileFile, root, path).safety


def load_plan(path: Path) -> LoadedPlan:
    """Load ``path`` as a drill plan (mapping form or the seed's list form)."""
    root = load_file(path)
    if isinstance(root, list):
        techniques = validate(TechniqueList, root, path).root
        if not techniques:
            raise LibraryError.single(
                Location(str(path), 1, 1), "the technique list is empty; add at least one", "empty"
            )
        plan = DrillPlan(name=path.stem, techniques=techniques)
        return LoadedPlan(plan, path, SafetyProfile())
    if not isinstance(root, Mapping):
        kind = "empty" if root is None else f"a {type(root).__name__}"
        raise LibraryError.single(
            Location(str(path), 1, 1),
            f"a drill plan must be a mapping (or a list of techniques), but the file is {kind}",
            "not-a-mapping",
        )
    plan = validate(DrillPlan, root, path)
    if isinstance(plan.safety, SafetyProfile):
        return LoadedPlan(plan, path, plan.safety)
    profile_path = (path.parent / plan.safety).resolve()
    if not profile_path.is_file():
        raise LibraryError(
            [
                problem_at(
                    path,
                    root,
                    ("safety",),
                    f"safety profile file {plan.safety} not found (looked at {profile_path})",
                    "missing-file",
                )
            ]
        )
    return LoadedPlan(plan, path, load_safety_profile(profile_path))


def find_plan(name_or_path: str, library: Path | None) -> Path:
    """A plan given as a path, or by name from the library's ``drills/`` folder."""
    direct = Path(name_or_path)
    if direct.is_file():
        return direct
    if library is not None:
        for suffix in ("", ".yaml", ".yml"):
            candidate = library / "drills" / f"{name_or_path}{suffix}"
            if candidate.is_file():
                return candidate
    from drillbook.errors import NotFoundError

    raise NotFoundError(
        f"drill plan {name_or_path!r} not found (a path, or a name in the library's drills/)"
    )
