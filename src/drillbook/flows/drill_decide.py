"""Deciding each technique of a plan before anything runs, and the sandbox it runs in.

A shell technique on this host or an SSH target runs in the sandbox, which enforces the
safety profile whatever the text says, so only what it declares can refuse it
(:func:`~drillbook.executors.safety.contained_refusal`). Where nothing contains a
technique (``sandbox: none``, cloud techniques) the command-text checks decide, and the
reason says so. :func:`check_sandbox` makes sure the sandbox can start (here, or on the
SSH target) before the run is recorded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from drillbook.domain.drill.enums import TargetKind, TechniqueStatus
from drillbook.domain.drill.planfile import LoadedPlan
from drillbook.errors import ConfigError
from drillbook.executors.base import Executor, PreparedTechnique
from drillbook.executors.safety import contained_refusal, refusal
from drillbook.executors.sandbox import SandboxPolicy, require_sandbox
from drillbook.executors.shell import ShellExecutor

if TYPE_CHECKING:
    from drillbook.flows.drill_run import Prepared


def is_contained(executor: Executor, loaded: LoadedPlan) -> bool:
    """Whether this executor's techniques run in the sandbox under this plan."""
    return (
        isinstance(executor, ShellExecutor)
        and loaded.safety.contained
        and loaded.plan.target.kind in (TargetKind.LOCAL, TargetKind.SSH)
    )


def decide(
    prepared: PreparedTechnique, loaded: LoadedPlan, *, contained: bool = False
) -> tuple[TechniqueStatus, str | None]:
    if prepared.not_runnable:
        return TechniqueStatus.NOT_RUNNABLE, prepared.not_runnable
    if prepared.assessment is not None:
        if contained:
            why = contained_refusal(prepared.assessment, loaded.safety)
        else:
            why = refusal(prepared.assessment, loaded.safety)
            why = f"{why} (nothing contains this technique, so its text decides)" if why else None
        if why:
            return TechniqueStatus.REFUSED, f"refused by the safety profile: {why}"
    return TechniqueStatus.PENDING, None


def check_sandbox(prepared: Prepared) -> SandboxPolicy | None:
    """The sandbox this drill's local techniques run in (None under ``sandbox: none`` or
    when no technique needs one); raises when the kernel refuses it or a ``writable:``
    path is missing, before anything is recorded or run."""
    loaded = prepared.loaded
    needed = any(
        is_contained(executor, loaded) and decision is TechniqueStatus.PENDING
        for (_, executor), (decision, _) in zip(
            prepared.techniques, prepared.decisions, strict=True
        )
    )
    if not needed:
        return None
    if loaded.plan.target.kind is TargetKind.SSH:
        from drillbook.executors import remote

        remote.probe(loaded.plan.target)  # the remote host's bwrap, not this one's
        return SandboxPolicy.from_profile(loaded.safety)
    require_sandbox()
    for path in loaded.safety.writable:
        if not Path(path).exists():
            raise ConfigError(
                f"{loaded.path}: writable path {path} does not exist; create it or remove it "
                "from the safety profile's writable list"
            )
    return SandboxPolicy.from_profile(loaded.safety)
