"""Atomic Red Team tests, run for real from a local clone of the atomics.

The plan names ``atomic: T1082`` and ``test: 3`` (or the test's name or GUID) with
``inputs:`` overriding input arguments. The command and cleanup are rendered with
``#{name}`` interpolation and PathToAtomicsFolder; dependencies become prerequisites
(``prereq_command`` checked before detonation, ``get_prereq_command`` only with
``--get-prereqs``). Only sh and bash executors on a supported platform can run.
"""

from __future__ import annotations

from drillbook.domain.drill.enums import TargetKind
from drillbook.domain.drill.plan import AtomicTechnique, Technique
from drillbook.errors import NotFoundError
from drillbook.executors.base import PreparedTechnique, Prerequisite, Resources
from drillbook.executors.safety import assess
from drillbook.executors.shell import ShellExecutor


class AtomicExecutor(ShellExecutor):
    name = "atomic"

    def prepare(self, entry: Technique, position: int, resources: Resources) -> PreparedTechnique:
        assert isinstance(entry, AtomicTechnique)
        timeout = entry.timeout_seconds(resources.safety.technique_timeout_seconds)
        label = f"{entry.atomic}-{entry.test}"
        base = PreparedTechnique(
            position=position,
            technique=label,
            name=label,
            executor=self.name,
            command=None,
            expected_detections=list(entry.expected_detection),
            checks=list(entry.checks),
            timeout=timeout,
        )
        try:
            ref = resources.atomics.find(entry.atomic, entry.test)
        except NotFoundError as exc:
            base.not_runnable = str(exc)
            return base
        atomics = resources.atomics.root
        spec = ref.test.executor
        base.technique = ref.key
        base.name = ref.test.name
        base.shell = spec.name if spec.name in ("sh", "bash") else None
        base.details = {
            "attack_technique": ref.technique,
            "display_name": ref.display_name,
            "test_number": ref.number,
            "guid": ref.test.auto_generated_guid,
            "description": ref.test.description.strip(),
            "supported_platforms": ref.test.supported_platforms,
            "executor_name": spec.name,
            "elevation_required": spec.elevation_required,
            "inputs": {k: str(v) for k, v in entry.inputs.items()},
        }
        try:
            base.command = ref.render(spec.command, entry.inputs, atomics)
            base.cleanup_command = ref.render(spec.cleanup_command, entry.inputs, atomics)
            values = ref.arguments(entry.inputs, atomics)
        except NotFoundError as exc:
            base.not_runnable = str(exc)
            return base
        from drillbook.executors.atomics import interpolate

        base.prerequisites = [
            Prerequisite(
                d.description,
                interpolate(d.prereq_command, values, atomics),
                interpolate(d.get_prereq_command, values, atomics),
            )
            for d in ref.test.dependencies
        ]
        reason = ref.runnable_reason()
        if reason is None and resources.target.kind is TargetKind.CLOUD:
            reason = "atomic tests run on a host; this plan's target is a cloud profile"
        base.not_runnable = reason
        extra = [p.check for p in base.prerequisites]
        if resources.get_prereqs:
            extra += [p.get for p in base.prerequisites]
        base.assessment = assess(
            base.command or "",
            base.cleanup_command,
            elevation_required=spec.elevation_required,
            network=entry.network,
            extra_commands=tuple(extra),
        )
        return base
