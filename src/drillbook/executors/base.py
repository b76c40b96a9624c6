"""The executor interface, and finding executors by name.

An executor turns one plan entry into a :class:`PreparedTechnique` (the command that will
run, its cleanup, what the safety rules need to know, and whether it can run here at
all), detonates it, and runs its cleanup, also from a journal payload alone
(``drill cleanup --pending`` has no plan). Executors are found by name through the
``drillbook.executors`` entry-point group, so a user's own executor installs as a package::

    [project.entry-points."drillbook.executors"]
    mine = "my_package.executor:MyExecutor"
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, ClassVar

from drillbook.config import SETTINGS
from drillbook.domain.drill.plan import Check, ExpectedDetection, SafetyProfile, Target, Technique
from drillbook.errors import ConfigError
from drillbook.executors.atomics import AtomicsFolder
from drillbook.executors.process import TECHNIQUE_ENV, ProcessResult
from drillbook.executors.safety import Assessment
from drillbook.executors.sandbox import SandboxPolicy
from drillbook.telemetry.process_events import ProcessCreation
from drillbook.telemetry.readers.jsonl import SourcedEvent

CORRELATION_ENV = "DRILLBOOK_DRILL_ID"


def marker(run_id: str) -> str:
    """The drill's correlation marker: named in notices and set as ``DRILLBOOK_DRILL_ID`` in
    every technique's environment (never added to a command line: that would break every
    ``CommandLine|endswith`` rule)."""
    return f"drillbook-drill-{run_id}"


@dataclass
class Resources:
    """What preparing a technique may need beyond the plan entry."""

    atomics: AtomicsFolder
    safety: SafetyProfile
    target: Target
    get_prereqs: bool = False


@dataclass
class Prerequisite:
    description: str
    check: str
    get: str = ""


@dataclass
class PreparedTechnique:
    """One plan entry, resolved: what will run, what cleans up, and what is known of it."""

    position: int
    technique: str
    name: str
    executor: str
    command: str | None
    cleanup_command: str | None = None
    shell: str | None = None
    assessment: Assessment | None = None
    not_runnable: str | None = None
    expected_detections: list[ExpectedDetection] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    timeout: float = 120.0
    prerequisites: list[Prerequisite] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def technique_environ() -> dict[str, str]:
    """The environment a technique (or its cleanup) runs with: the runner's, less
    drillbook's own settings. Those hold the store's URL, the webhook and the LLM key; a
    technique that dumps its environment (many discovery atomics do) would otherwise put
    them into stored stdout and the sensor's trace."""
    own = {s.name for s in SETTINGS}
    return {k: v for k, v in os.environ.items() if k not in own}


@dataclass
class ExecutionContext:
    """The drill around one step: ids, correlation, where to work, the sensor switch, and
    the sandbox (None when the profile says ``sandbox: none`` or the target is remote).

    ``workdir`` is the working directory of uncontained steps; ``private`` holds what the
    technique must not touch (the sensor's trace, the sandbox report) and is hidden from
    contained techniques."""

    run_id: str
    technique_run_id: str
    target: Target
    workdir: Path
    use_sensor: bool = True
    sandbox: SandboxPolicy | None = None
    private: Path | None = None
    scratch: Path | None = None
    abort_requested: Callable[[], str | None] | None = None

    def private_dir(self) -> Path:
        return self.private or self.workdir

    @property
    def marker(self) -> str:
        return marker(self.run_id)

    def environment(self) -> dict[str, str]:
        env = technique_environ()
        env[CORRELATION_ENV] = self.run_id
        env[TECHNIQUE_ENV] = self.technique_run_id
        return env


@dataclass
class Detonation:
    """What a detonation did, and what the sensor saw."""

    result: ProcessResult
    command: str
    events: list[ProcessCreation] = field(default_factory=list)
    telemetry_captured: bool = False
    telemetry_note: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # file_event, file_delete, network_connection and auditd events of the technique's
    # own processes (see drillbook.telemetry.strace_events)
    activity: list[SourcedEvent] = field(default_factory=list)


class Executor(ABC):
    """Runs one kind of technique (Atomic Red Team test, Stratus technique, inline)."""

    name: ClassVar[str]

    @abstractmethod
    def prepare(self, entry: Technique, position: int, resources: Resources) -> PreparedTechnique:
        """Resolve ``entry``; set ``not_runnable`` (with the reason) when it cannot run here."""

    def check_prerequisites(
        self, prepared: PreparedTechnique, ctx: ExecutionContext, *, get_prereqs: bool
    ) -> str | None:
        """Why prerequisites are not met (None when they are). Only called for techniques
        the safety profile allows."""
        return None

    @abstractmethod
    def detonate(
        self, prepared: PreparedTechnique, ctx: ExecutionContext, on_start: Any = None
    ) -> Detonation:
        """Run the technique (raising OperatorAbort/KeyboardInterrupt after killing it)."""

    @abstractmethod
    def cleanup_payload(
        self, prepared: PreparedTechnique, ctx: ExecutionContext
    ) -> dict[str, Any] | None:
        """What the journal must hold to run the cleanup later, or None if there is none."""

    @abstractmethod
    def run_cleanup(self, payload: dict[str, Any], timeout: float) -> ProcessResult:
        """Run a cleanup from its journal payload alone."""


def _builtin(name: str) -> type[Executor] | None:
    if name == "atomic":
        from drillbook.executors.atomic import AtomicExecutor

        return AtomicExecutor
    if name == "inline":
        from drillbook.executors.inline import InlineExecutor

        return InlineExecutor
    if name == "stratus":
        from drillbook.executors.stratus import StratusExecutor

        return StratusExecutor
    return None


def load_executor(name: str) -> Executor:
    """The executor registered as ``name`` in the ``drillbook.executors`` entry points."""
    for point in entry_points(group="drillbook.executors"):
        if point.name == name:
            loaded = point.load()
            if not (isinstance(loaded, type) and issubclass(loaded, Executor)):
                raise ConfigError(f"entry point drillbook.executors:{name} is not an Executor")
            return loaded()
    builtin = _builtin(name)  # an uninstalled source tree has no entry points
    if builtin is None:
        raise ConfigError(f"no executor named {name!r} (entry-point group drillbook.executors)")
    return builtin()
