"""Reading Atomic Red Team atomics in their own YAML format.

An atomics folder holds ``T1082/T1082.yaml`` and friends: ``attack_technique``,
``display_name`` and ``atomic_tests``, each test with ``name``, ``auto_generated_guid``,
``supported_platforms``, ``input_arguments`` (``#{name}`` placeholders with defaults),
``dependencies`` (``prereq_command`` / ``get_prereq_command``) and an ``executor``
(``name``, ``command``, ``cleanup_command``, ``elevation_required``).

Only ``sh`` and ``bash`` executors can run here; the rest are listed with the reason.
Unknown keys are ignored (the corpus grows new ones); missing required ones are located
errors naming the file.
"""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from drillbook.documents.validation import validate
from drillbook.documents.yaml_io import load_mapping
from drillbook.errors import NotFoundError

RUNNABLE_EXECUTORS = ("sh", "bash")
_PLACEHOLDER = re.compile(r"#\{([A-Za-z0-9_.-]+)\}")


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class InputArgument(_Lenient):
    description: str = ""
    type: str = "string"
    default: str | int | float | bool | None = None


class Dependency(_Lenient):
    description: str = ""
    prereq_command: str = ""
    get_prereq_command: str = ""


class AtomicExecutorSpec(_Lenient):
    name: str
    command: str | None = None
    cleanup_command: str | None = None
    elevation_required: bool = False
    steps: str | None = None  # the "manual" executor


class AtomicTest(_Lenient):
    name: str
    auto_generated_guid: str | None = None
    description: str = ""
    supported_platforms: list[str] = Field(default_factory=list)
    input_arguments: dict[str, InputArgument] = Field(default_factory=dict)
    dependency_executor_name: str | None = None
    dependencies: list[Dependency] = Field(default_factory=list)
    executor: AtomicExecutorSpec


class AtomicFile(_Lenient):
    attack_technique: str
    display_name: str = ""
    atomic_tests: list[AtomicTest]


def current_platform() -> str:
    """This machine's platform in Atomic Red Team's vocabulary."""
    if sys.platform.startswith("linux"):
        return "linux"
    if sys.platform == "darwin":
        return "macos"
    if sys.platform.startswith("win"):
        return "windows"
    return sys.platform


@dataclass(frozen=True)
class AtomicRef:
    """One test of one technique file, with its 1-based number (as Invoke-AtomicTest counts)."""

    technique: str
    display_name: str
    number: int
    test: AtomicTest
    path: Path

    @property
    def key(self) -> str:
        return f"{self.technique}-{self.number}"

    def runnable_reason(self, platform: str | None = None) -> str | None:
        """Why this test cannot run on this machine, or None when it can."""
        here = platform or current_platform()
        if here not in self.test.supported_platforms:
            return (
                f"supports {', '.join(self.test.supported_platforms) or 'no platform'}, not {here}"
            )
        executor = self.test.executor.name
        if executor not in RUNNABLE_EXECUTORS:
            return f"executor '{executor}' is not runnable here (drillbook runs sh and bash)"
        if not self.test.executor.command:
            return "the test has no command"
        if shutil.which(executor) is None:
            return f"{executor} is not installed"
        return None

    def arguments(self, overrides: dict[str, Any], atomics: Path) -> dict[str, str]:
        """Input argument values: the plan's overrides over the test's defaults."""
        unknown = sorted(set(overrides) - set(self.test.input_arguments))
        if unknown:
            raise NotFoundError(
                f"{self.key}: unknown input argument(s) {', '.join(unknown)}; the test takes "
                f"{', '.join(sorted(self.test.input_arguments)) or 'none'}"
            )
        values: dict[str, str] = {}
        for name, spec in self.test.input_arguments.items():
            raw = overrides.get(name, spec.default)
            values[name] = "" if raw is None else _as_text(raw)
        return {k: replace_atomics_folder(v, atomics) for k, v in values.items()}

    def render(self, text: str | None, overrides: dict[str, Any], atomics: Path) -> str | None:
        """``text`` with ``#{name}`` and PathToAtomicsFolder filled in."""
        if text is None:
            return None
        return interpolate(text, self.arguments(overrides, atomics), atomics)


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def replace_atomics_folder(text: str, atomics: Path) -> str:
    folder = str(atomics)
    return text.replace("$PathToAtomicsFolder", folder).replace("PathToAtomicsFolder", folder)


def interpolate(text: str, values: dict[str, str], atomics: Path) -> str:
    """Replace ``#{name}`` placeholders; unknown names stay as written (as upstream does)."""
    filled = _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)
    return replace_atomics_folder(filled, atomics)


class AtomicsFolder:
    """A local clone's ``atomics`` folder, read lazily, one technique file at a time."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[str, AtomicFile] = {}

    def exists(self) -> bool:
        return self.root.is_dir()

    def require(self) -> None:
        if not self.exists():
            raise NotFoundError(
                f"no Atomic Red Team atomics at {self.root}: clone "
                "redcanaryco/atomic-red-team and pass --atomics PATH/atomics, set "
                "DRILLBOOK_ATOMICS_PATH, or set atomics_path in drillbook.yaml"
            )

    def technique_ids(self) -> list[str]:
        self.require()
        return sorted(
            p.name for p in self.root.iterdir() if p.is_dir() and (p / f"{p.name}.yaml").is_file()
        )

    def load(self, technique: str) -> AtomicFile:
        if technique not in self._cache:
            self.require()
            path = self.root / technique / f"{technique}.yaml"
            if not path.is_file():
                raise NotFoundError(f"technique {technique} not found in {self.root}")
            self._cache[technique] = validate(AtomicFile, load_mapping(path, "an atomic"), path)
        return self._cache[technique]

    def tests(self, technique: str) -> list[AtomicRef]:
        data = self.load(technique)
        path = self.root / technique / f"{technique}.yaml"
        return [
            AtomicRef(data.attack_technique, data.display_name, i, test, path)
            for i, test in enumerate(data.atomic_tests, start=1)
        ]

    def find(self, technique: str, test: int | str) -> AtomicRef:
        """A test by 1-based number, GUID or exact name (case-insensitive)."""
        tests = self.tests(technique)
        if isinstance(test, int) or (isinstance(test, str) and test.isdigit()):
            number = int(test)
            if 1 <= number <= len(tests):
                return tests[number - 1]
            raise NotFoundError(f"{technique} has {len(tests)} tests; there is no test {number}")
        wanted = test.strip().lower()
        for ref in tests:
            if (ref.test.auto_generated_guid or "").lower() == wanted:
                return ref
        for ref in tests:
            if ref.test.name.strip().lower() == wanted:
                return ref
        raise NotFoundError(f"{technique} has no test named or with GUID {test!r}")
