"""Inline commands in the seed's ``atomic-runner.yml`` shape.

``name``, ``test`` (the shell text), ``expected_detection`` and ``cleanup`` are the seed's
keys; ``technique``, ``executor`` (sh or bash), ``elevation_required``, ``network``,
``timeout`` and ``checks`` are optional extensions.
"""

from __future__ import annotations

import shutil

from drillbook.domain.drill.enums import TargetKind
from drillbook.domain.drill.plan import InlineTechnique, Technique
from drillbook.executors.base import PreparedTechnique, Resources
from drillbook.executors.safety import assess
from drillbook.executors.shell import ShellExecutor


class InlineExecutor(ShellExecutor):
    name = "inline"

    def prepare(self, entry: Technique, position: int, resources: Resources) -> PreparedTechnique:
        assert isinstance(entry, InlineTechnique)
        not_runnable = None
        if resources.target.kind is TargetKind.CLOUD:
            not_runnable = "inline commands run on a host; this plan's target is a cloud profile"
        elif shutil.which(entry.executor) is None:
            not_runnable = f"{entry.executor} is not installed"
        return PreparedTechnique(
            position=position,
            technique=entry.attack_id or f"inline-{position}",
            name=entry.name,
            executor=self.name,
            command=entry.test,
            cleanup_command=entry.cleanup,
            shell=entry.executor,
            assessment=assess(
                entry.test,
                entry.cleanup,
                elevation_required=entry.elevation_required,
                network=entry.network,
            ),
            not_runnable=not_runnable,
            expected_detections=list(entry.expected_detection),
            checks=list(entry.checks),
            timeout=entry.timeout_seconds(resources.safety.technique_timeout_seconds),
            details={"attack_technique": entry.attack_id},
        )
