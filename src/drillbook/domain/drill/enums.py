"""Closed vocabularies of the drill domain."""

from __future__ import annotations

from enum import StrEnum


class TechniqueStatus(StrEnum):
    """How one technique of a drill ended (``pending``/``running`` only while in flight)."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    TIMEOUT = "timeout"
    REFUSED = "refused"
    NOT_RUNNABLE = "not_runnable"
    ABORTED = "aborted"

    @property
    def detonated(self) -> bool:
        """Whether the technique's command actually started (so telemetry may exist)."""
        return self in {
            TechniqueStatus.SUCCEEDED,
            TechniqueStatus.FAILED,
            TechniqueStatus.TIMEOUT,
            TechniqueStatus.ABORTED,
        }


class DrillStatus(StrEnum):
    """The state of a whole drill run."""

    RUNNING = "running"
    COMPLETED = "completed"
    ABORTED = "aborted"
    CRASHED = "crashed"  # the runner died; `drill cleanup --pending` settled what it owed


class JournalStep(StrEnum):
    DETONATE = "detonate"
    CLEANUP = "cleanup"
    ABORT = "abort"  # `drill abort` from any terminal: the runner acts on it


class JournalStatus(StrEnum):
    STARTED = "started"
    DONE = "done"
    FAILED = "failed"


class TargetKind(StrEnum):
    LOCAL = "local"
    SSH = "ssh"
    CLOUD = "cloud"


class CleanupOutcome(StrEnum):
    """What happened to a technique's cleanup."""

    DONE = "done"
    FAILED = "failed"
    NONE = "none"  # the technique has no cleanup
    NOT_NEEDED = "not_needed"  # the technique never ran
    PENDING = "pending"  # owed; `drill cleanup --pending` will run it
