"""Closed vocabularies of an exercise run: its lifecycle and the kinds of timeline events."""

from __future__ import annotations

from enum import StrEnum

from drillbook.domain.scenario import enums as scenario_enums


class ExerciseStatus(StrEnum):
    """Lifecycle of one run of a scenario (first seed: brief, run, report, follow up)."""

    PLANNED = "planned"
    BRIEFED = "briefed"
    RUNNING = "running"
    PAUSED = "paused"
    IN_REVIEW = "in_review"
    REPORTED = "reported"
    FOLLOWED_UP = "followed_up"

    @property
    def live(self) -> bool:
        """True while the exercise clock exists (running or paused)."""
        return self in (ExerciseStatus.RUNNING, ExerciseStatus.PAUSED)


# Which status may follow which. Anything else is a StateError naming what is allowed.
TRANSITIONS: dict[ExerciseStatus, frozenset[ExerciseStatus]] = {
    ExerciseStatus.PLANNED: frozenset({ExerciseStatus.BRIEFED, ExerciseStatus.RUNNING}),
    ExerciseStatus.BRIEFED: frozenset({ExerciseStatus.RUNNING}),
    ExerciseStatus.RUNNING: frozenset({ExerciseStatus.PAUSED, ExerciseStatus.IN_REVIEW}),
    ExerciseStatus.PAUSED: frozenset({ExerciseStatus.RUNNING, ExerciseStatus.IN_REVIEW}),
    ExerciseStatus.IN_REVIEW: frozenset({ExerciseStatus.REPORTED}),
    ExerciseStatus.REPORTED: frozenset({ExerciseStatus.FOLLOWED_UP}),
    ExerciseStatus.FOLLOWED_UP: frozenset(),
}


class EventKind(StrEnum):
    """What a timeline event records. Values shared with
    :class:`drillbook.domain.scenario.enums.EvidenceEvent` mean the same thing, so a
    success criterion's evidence names an event kind directly."""

    STATUS_CHANGED = "status_changed"
    PHASE_STARTED = "phase_started"
    INJECT = "inject"
    DECISION = "decision"
    OBSERVATION = "observation"
    NOTE = "note"
    ROLE_ASSIGNED = "role_assigned"
    REPORT_WRITTEN = "report_written"
    SCHEDULED = "scheduled"
    """The session's date (and start time) was set or moved (``data.start``): the one date
    the brief, the calendar file, the report and its deadlines all use."""
    CRITERION_TAGGED = "criterion_tagged"
    """An earlier event named as evidence for success criteria (``data.event``,
    ``data.criteria``); appended, so the record of who tagged what, when, is kept."""
    # What a model pass (finding draft --llm) sent and received, kept for review.
    MODEL_EXCHANGE = "model_exchange"


def canonical_role(role: str | None) -> str | None:
    """The one name a role is compared under (``incident_lead`` -> ``incident_commander``),
    from the one alias table in :mod:`drillbook.domain.scenario.enums`; None stays None."""
    return None if role is None else scenario_enums.canonical_role(role)
