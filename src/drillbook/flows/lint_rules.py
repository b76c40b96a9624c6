"""The reviewer's checks on one scenario that already passed the schema.

Each rule takes a :class:`ScenarioContext` and yields :class:`Problem`s located in the
scenario's YAML document. Rules never raise: a rule that cannot judge (say, a duration it
cannot read) stays silent, because the schema has already reported that.

Role names are compared through :func:`~drillbook.domain.scenario.enums.canonical_role`
(:data:`ROLE_ALIASES`): the first seed calls the person running the response the
*Incident Lead*, the second the *incident commander*; both spellings name the same seat.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from itertools import pairwise
from typing import Any

from drillbook.documents.durations import minutes
from drillbook.documents.yaml_io import LocPath, problem_at
from drillbook.domain.scenario.criteria import Criterion, guess_evidence
from drillbook.domain.scenario.enums import ROLE_ALIASES as ROLE_ALIASES  # re-exported
from drillbook.domain.scenario.enums import Phase, canonical_role
from drillbook.errors import Level, Problem
from drillbook.library.loader import LoadedScenario

MAX_INJECT_GAP_MINUTES = 15.0
"""The first seed: new information drops at least every 15 minutes, or the room stalls."""


@dataclass(frozen=True)
class ScenarioContext:
    """One scenario under review, with what the rules need to judge it."""

    loaded: LoadedScenario
    today: date
    review_every: timedelta

    def problem(
        self, loc: LocPath, message: str, code: str, *, level: Level = "error", key: bool = False
    ) -> Problem:
        return problem_at(
            self.loaded.path, self.loaded.document, loc, message, code, level=level, key=key
        )

    @property
    def document(self) -> Any:
        return self.loaded.document


Rule = Callable[[ScenarioContext], Iterator[Problem]]


def _minutes_text(value: float) -> str:
    return f"{value:g}m"


def inject_timing(ctx: ScenarioContext) -> Iterator[Problem]:
    """Injects inside the duration, in order, and never more than 15 minutes apart."""
    scenario = ctx.loaded.scenario
    duration = scenario.duration_minutes
    previous: float | None = None
    for index, inject in enumerate(scenario.injects):
        minute = inject.minute
        where = ("injects", index, "time")
        if minute > duration:
            yield ctx.problem(
                where,
                f"inject at {inject.time} is after the scenario ends ({scenario.duration}); "
                "move it earlier or lengthen duration",
                "inject-after-end",
            )
        if previous is not None and minute < previous:
            yield ctx.problem(
                where,
                f"inject at {inject.time} comes after one at {_minutes_text(previous)}; "
                "list injects in time order",
                "inject-order",
            )
        elif previous is not None and minute - previous > MAX_INJECT_GAP_MINUTES:
            yield ctx.problem(
                where,
                f"{_minutes_text(minute - previous)} without new information before this "
                f"inject; drop one at least every {MAX_INJECT_GAP_MINUTES:g} minutes",
                "inject-gap",
                level="warning",
            )
        elif previous is None and minute > MAX_INJECT_GAP_MINUTES:
            yield ctx.problem(
                where,
                f"the first inject comes only at {inject.time}; open with one by "
                f"{MAX_INJECT_GAP_MINUTES:g}m",
                "inject-gap",
                level="warning",
            )
        previous = minute if previous is None else max(previous, minute)


def timed_extensions(ctx: ScenarioContext) -> Iterator[Problem]:
    """Decision points, escalations and criterion deadlines inside the duration."""
    scenario = ctx.loaded.scenario
    duration = scenario.duration_minutes
    timed: list[tuple[LocPath, str | None, str]] = [
        (("decision_points", i, "at"), d.at, "decision point")
        for i, d in enumerate(scenario.decision_points)
    ]
    timed += [
        (("escalations", i, "at"), e.at, "escalation") for i, e in enumerate(scenario.escalations)
    ]
    for loc, at, what in timed:
        if at is None:
            continue
        if minutes(at) > duration:
            yield ctx.problem(
                loc,
                f"{what} at {at} is after the scenario ends ({scenario.duration})",
                "time-after-end",
            )
    for index, criterion in enumerate(scenario.criteria):
        deadline = criterion.deadline_minutes
        if deadline is not None and deadline > duration:
            yield ctx.problem(
                ("success_criteria", index),
                f"deadline {_minutes_text(deadline)} is after the scenario ends "
                f"({scenario.duration}); the run can never meet it",
                "criterion-after-end",
                level="warning",
            )


def roles_listed(ctx: ScenarioContext) -> Iterator[Problem]:
    """Every role a scenario addresses is one of its participants (aliases allowed)."""
    scenario = ctx.loaded.scenario
    seats = {canonical_role(role) for role in scenario.roles}
    listed = ", ".join(scenario.roles)

    def unknown(role: str) -> bool:
        return canonical_role(role) not in seats

    for i, inject in enumerate(scenario.injects):
        for j, role in enumerate(inject.audience):
            if unknown(role):
                yield ctx.problem(
                    ("injects", i, "audience", j),
                    f"inject addressed to role '{role}', which participants do not list "
                    f"(listed: {listed})",
                    "unknown-role",
                )
    for i, point in enumerate(scenario.decision_points):
        if point.owner_role and unknown(point.owner_role):
            yield ctx.problem(
                ("decision_points", i, "owner_role"),
                f"decision owned by role '{point.owner_role}', which participants do not "
                f"list (listed: {listed})",
                "unknown-role",
            )
    for i, written in enumerate(scenario.success_criteria):
        if isinstance(written, Criterion):
            measured = written.evidence.role if written.evidence else None
            if measured and unknown(measured):
                yield ctx.problem(
                    ("success_criteria", i, "evidence", "role"),
                    f"criterion measured on role '{measured}', which participants do not list "
                    f"(listed: {listed})",
                    "unknown-role",
                )
        else:
            guessed = guess_evidence(written)
            if guessed and guessed.role and unknown(guessed.role):
                yield ctx.problem(
                    ("success_criteria", i),
                    f"criterion names the role '{guessed.role}', which participants do not "
                    f"list (listed: {listed}); add the participant or reword the criterion",
                    "unknown-role",
                    level="warning",
                )


def criteria_measurable(ctx: ScenarioContext) -> Iterator[Problem]:
    """A scenario has success criteria, and a run can tell whether each was met."""
    scenario = ctx.loaded.scenario
    if not scenario.success_criteria:
        key = "success_criteria" if "success_criteria" in ctx.document else "id"
        yield ctx.problem(
            (key,),
            "no success criteria: add at least one, e.g. 'Incident commander identified "
            "within 5 minutes'",
            "no-criteria",
            key=True,
        )
        return
    for index, criterion in enumerate(scenario.criteria):
        if not criterion.measurable:
            yield ctx.problem(
                ("success_criteria", index),
                f"criterion '{criterion.text}' cannot be measured from the timeline; name "
                "the decision, role or phase it needs, or write it as a mapping with evidence",
                "unmeasurable-criterion",
                level="warning",
            )


def phase_windows(ctx: ScenarioContext) -> Iterator[Problem]:
    """Written phases: each once, non-empty, inside the duration, not overlapping."""
    scenario = ctx.loaded.scenario
    duration = scenario.duration_minutes
    seen: dict[Phase, int] = {}
    for index, window in enumerate(scenario.phases):
        if window.name in seen:
            yield ctx.problem(
                ("phases", index, "name"),
                f"phase '{window.name.value}' is listed twice (also item {seen[window.name] + 1})",
                "phase-duplicate",
            )
        seen.setdefault(window.name, index)
        if window.end_minute <= window.start_minute:
            yield ctx.problem(
                ("phases", index, "end"),
                f"phase '{window.name.value}' ends ({window.end}) before it starts "
                f"({window.start})",
                "phase-empty",
            )
        if window.end_minute > duration:
            yield ctx.problem(
                ("phases", index, "end"),
                f"phase '{window.name.value}' ends at {window.end}, after the scenario ends "
                f"({scenario.duration})",
                "phase-after-end",
            )
    ordered = sorted(enumerate(scenario.phases), key=lambda item: item[1].start_minute)
    for (_, earlier), (index, later) in pairwise(ordered):
        if later.start_minute < earlier.end_minute:
            yield ctx.problem(
                ("phases", index, "start"),
                f"phase '{later.name.value}' starts at {later.start}, before "
                f"'{earlier.name.value}' ends ({earlier.end}); phases must not overlap",
                "phase-overlap",
            )


def decisions_per_phase(ctx: ScenarioContext) -> Iterator[Problem]:
    """One decision point per phase (first seed). Only judged when the scenario uses
    ``decision_points`` at all: the seed's own shape has none and is not at fault."""
    scenario = ctx.loaded.scenario
    if not scenario.decision_points:
        return
    covered = {point.phase for point in scenario.decision_points}
    written = {window.name: i for i, window in enumerate(scenario.phases)}
    for window in scenario.phase_windows():
        if window.name in covered:
            continue
        if window.name in written:
            loc: LocPath = ("phases", written[window.name], "name")
        else:
            loc = ("decision_points",)
        yield ctx.problem(
            loc,
            f"no decision point in phase '{window.name.value}'; give the team one decision "
            "to make in every phase",
            "phase-without-decision",
            level="warning",
            key=loc == ("decision_points",),
        )


def inject_phases(ctx: ScenarioContext) -> Iterator[Problem]:
    """An inject that names its phase falls inside that phase's window."""
    scenario = ctx.loaded.scenario
    for index, inject in enumerate(scenario.injects):
        if inject.phase is None or inject.minute > scenario.duration_minutes:
            continue
        actual = scenario.phase_at(inject.minute)
        if actual != inject.phase:
            yield ctx.problem(
                ("injects", index, "phase"),
                f"inject at {inject.time} says phase '{inject.phase.value}' but falls in "
                f"'{actual.value}' on the clock",
                "inject-phase-mismatch",
                level="warning",
            )


def review_freshness(ctx: ScenarioContext) -> Iterator[Problem]:
    """``last_reviewed`` within the program's review cadence (the seed's library-staleness
    failure mode: scenarios that reflect years-old attack patterns)."""
    reviewed = ctx.loaded.scenario.last_reviewed
    if reviewed is None:
        return
    if reviewed > ctx.today:
        yield ctx.problem(
            ("last_reviewed",),
            f"last_reviewed {reviewed.isoformat()} is in the future",
            "review-in-future",
            level="warning",
        )
        return
    age = ctx.today - reviewed
    if age > ctx.review_every:
        yield ctx.problem(
            ("last_reviewed",),
            f"stale: last reviewed {reviewed.isoformat()}, {age.days} days ago (the program "
            f"reviews the library every {ctx.review_every.days} days); refresh it against "
            "current threats and update last_reviewed",
            "stale",
            level="warning",
        )


RULES: tuple[Rule, ...] = (
    inject_timing,
    timed_extensions,
    roles_listed,
    criteria_measurable,
    phase_windows,
    decisions_per_phase,
    inject_phases,
    review_freshness,
)
"""Every per-scenario rule, in the order their problems read best."""


def check_scenario(ctx: ScenarioContext) -> list[Problem]:
    problems: list[Problem] = []
    for rule in RULES:
        problems.extend(rule(ctx))
    return problems
