"""The rehearsal calendar, as a pure function of the program, the library and the record.

The first seed's cadence and the second seed's cycle, per team and quarter:

* **month 1 - tabletop.** One a quarter, rotating the three agent scenarios (wrong-team
  exposure, improper tool fire, prompt injection) so each is rehearsed once a year; the
  fourth quarter of each team's year is an *open* slot for a scenario outside the three.
  Teams are offset by one slot, so in any quarter the teams rehearse different incidents.
* **month 2 - remediation.** The tabletop's findings are worked on; done when all closed.
* **month 3 - drill.** A chaos drill chosen from the tabletop's findings: the drill plan
  whose ATT&CK techniques overlap most with the findings' techniques and the scenario's
  tags (else the first plan, as a general detection sweep).
* **follow-up** ``cadence.followup_after`` (30 days) after the tabletop's report.
* **extra tabletops** the quarter after an inventory change (new agent, new tool, new team
  holding sensitive data) and after each real incident (within the follow-up delay).
* **review** a scenario that would be stale on the day it is rehearsed (last reviewed
  longer ago than ``cadence.review_library_every``) gets a review two weeks before.

Each item is matched against what happened (exercises, drill runs): ``done`` with the
record that kept it, ``booked`` when an exercise is planned for it, ``overdue`` when its
date has passed with nothing to show, else ``planned``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from drillbook.domain.program.periods import Period, next_quarter, quarter_index, quarter_of
from drillbook.domain.scenario.enums import Category

AGENT_ROTATION: tuple[Category, ...] = (
    Category.WRONG_TEAM_DATA_EXPOSURE,
    Category.IMPROPER_TOOL_FIRE,
    Category.PROMPT_INJECTION,
)
SLOTS = len(AGENT_ROTATION) + 1  # three agent scenarios and one open slot a year
DAY_IN_MONTH = 15
REVIEW_AHEAD = timedelta(days=14)
ATTACK = re.compile(r"\bT\d{4}(?:\.\d{3})?\b")


@dataclass(frozen=True)
class ScenarioInfo:
    id: str
    title: str
    category: str | None
    tags: tuple[str, ...] = ()
    last_reviewed: date | None = None
    own: bool = False  # in the user's library (staleness only applies to these)


@dataclass(frozen=True)
class DrillPlanInfo:
    name: str
    path: str
    techniques: frozenset[str]


@dataclass(frozen=True)
class ExerciseRecord:
    id: int
    team: str | None
    scenario_id: str
    run_date: date
    status: str
    reported_at: datetime | None
    findings: tuple[tuple[str, str | None, bool], ...] = ()  # (id, technique, still owed)

    @property
    def started(self) -> bool:
        return self.status not in ("planned", "briefed")

    @property
    def label(self) -> str:
        return f"EX-{self.id}"


@dataclass(frozen=True)
class DrillRecord:
    id: str
    team: str | None
    plan_name: str
    started_at: datetime


@dataclass(frozen=True)
class Trigger:
    """Something that asks for an extra tabletop: an inventory change or an incident."""

    kind: str  # new_agent | new_tool | sensitive_team | incident
    on: date
    team: str | None
    scenario_id: str | None
    reason: str
    source: tuple[str, ...]


@dataclass(frozen=True)
class ScheduleInputs:
    teams: Sequence[str | None]
    quarters: Sequence[Period]
    scenarios: Mapping[str, ScenarioInfo]
    drill_plans: Sequence[DrillPlanInfo] = ()
    exercises: Sequence[ExerciseRecord] = ()
    drills: Sequence[DrillRecord] = ()
    triggers: Sequence[Trigger] = ()
    followup_after: timedelta = timedelta(days=30)
    review_every: timedelta = timedelta(weeks=13)
    today: date = date(1970, 1, 1)


@dataclass
class ScheduleItem:
    kind: str  # tabletop | remediation | drill | followup | extra_tabletop | review
    team: str | None
    quarter: str
    due: date
    title: str
    reason: str
    scenario_id: str | None = None
    drill_plan: str | None = None
    until: date | None = None
    source: tuple[str, ...] = ()
    status: str = "planned"  # planned | booked | done | overdue
    record: str | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "team": self.team,
            "quarter": self.quarter,
            "due": self.due,
            "until": self.until,
            "title": self.title,
            "scenario": self.scenario_id,
            "drill_plan": self.drill_plan,
            "status": self.status,
            "record": self.record,
            "reason": self.reason,
            "source": list(self.source),
        }


def rotation_scenarios(scenarios: Mapping[str, ScenarioInfo]) -> dict[Category, str]:
    """For each agent category, the scenario rehearsed: the user's own first, then the
    built-in one whose id sorts first with ``gentle`` preferred (the first seed: start
    with the gentlest)."""
    chosen: dict[Category, str] = {}
    for category in AGENT_ROTATION:
        matching = [s for s in scenarios.values() if s.category == str(category)]
        if matching:
            best = min(matching, key=lambda s: (not s.own, "gentle" not in s.id, s.id))
            chosen[category] = best.id
    return chosen


def open_slot_candidates(scenarios: Mapping[str, ScenarioInfo]) -> list[str]:
    """Scenarios outside the three agent categories, the user's own first."""
    agent = {str(c) for c in AGENT_ROTATION}
    others = [s for s in scenarios.values() if s.category not in agent]
    own = sorted(s.id for s in others if s.own)
    return own or sorted(s.id for s in others)


def slot_of(team_offset: int, period: Period) -> int:
    return (quarter_index(period) + team_offset) % SLOTS


def _on(period: Period, month: int) -> date:
    return period.month_start(month) + timedelta(days=DAY_IN_MONTH - 1)


def is_stale(info: ScenarioInfo | None, on: date, review_every: timedelta) -> bool:
    return bool(info and info.own and info.last_reviewed and on - info.last_reviewed > review_every)


def choose_drill(
    plans: Sequence[DrillPlanInfo], techniques: set[str]
) -> tuple[DrillPlanInfo | None, set[str]]:
    """The plan covering most of ``techniques`` (ties: name), and what it covers."""
    if not plans:
        return None, set()
    best = max(plans, key=lambda p: (len(p.techniques & techniques), [-ord(c) for c in p.name]))
    return best, set(best.techniques & techniques)


class _Matcher:
    """Hands each exercise and drill run to at most one schedule item."""

    def __init__(self, inputs: ScheduleInputs) -> None:
        self.exercises = sorted(inputs.exercises, key=lambda e: (e.run_date, e.id))
        self.drills = sorted(inputs.drills, key=lambda d: (d.started_at, d.id))
        self.used: set[object] = set()

    def exercise(
        self, team: str | None, window: Period, scenario_id: str | None, after: date | None = None
    ) -> ExerciseRecord | None:
        fits = [
            e
            for e in self.exercises
            if e not in self.used
            and (team is None or e.team == team)
            and e.run_date in window
            and (after is None or e.run_date >= after)
        ]
        exact = [e for e in fits if e.scenario_id == scenario_id]
        candidates = exact or fits
        found = candidates[0] if candidates else None
        if found is not None:
            self.used.add(found)
        return found

    def drill(self, team: str | None, window: Period) -> DrillRecord | None:
        for run in self.drills:
            if run not in self.used and run.team == team and run.started_at.date() in window:
                self.used.add(run)
                return run
        return None


def _settle(item: ScheduleItem, record: str | None, done: bool, today: date) -> None:
    item.record = record
    if done:
        item.status = "done"
    elif record is not None:
        item.status = "booked"
    elif item.due < today:
        item.status = "overdue"


def build_schedule(inputs: ScheduleInputs) -> list[ScheduleItem]:
    rotation = rotation_scenarios(inputs.scenarios)
    open_slot = open_slot_candidates(inputs.scenarios)
    matcher = _Matcher(inputs)
    items: list[ScheduleItem] = []
    for period in inputs.quarters:
        # triggered extras first: an exercise that answers an incident is not the rotation's
        items.extend(_extras(inputs, period, matcher))
        for offset, team in enumerate(inputs.teams):
            slot = slot_of(offset, period)
            if slot < len(AGENT_ROTATION):
                category = AGENT_ROTATION[slot]
                scenario_id = rotation.get(category)
                reason = (
                    f"quarterly rotation: {category} (slot {slot + 1} of {SLOTS}; each agent "
                    "scenario once a year)"
                )
            else:
                scenario_id = (
                    open_slot[(quarter_index(period) // SLOTS + offset) % len(open_slot)]
                    if open_slot
                    else None
                )
                reason = f"quarterly rotation: open slot (slot {SLOTS} of {SLOTS})"
            items.extend(_cycle(inputs, period, team, scenario_id, reason, matcher))
    items.extend(_reviews(inputs, items))
    items.sort(key=lambda i: (i.due, i.team or "", i.kind))
    return items


def _cycle(
    inputs: ScheduleInputs,
    period: Period,
    team: str | None,
    scenario_id: str | None,
    reason: str,
    matcher: _Matcher,
) -> list[ScheduleItem]:
    info = inputs.scenarios.get(scenario_id or "")
    title = info.title if info else "tabletop (no scenario in the library for this slot)"
    tabletop = ScheduleItem(
        "tabletop", team, period.label, _on(period, 1), f"Tabletop: {title}", reason, scenario_id
    )
    record = matcher.exercise(team, period, scenario_id)
    _settle(
        tabletop, record.label if record else None, bool(record and record.started), inputs.today
    )
    ran = record if record and record.started else None
    remediation = ScheduleItem(
        "remediation",
        team,
        period.label,
        period.month_start(2),
        "Remediation of the tabletop's findings",
        "month 2 of the tabletop -> remediation -> drill cycle",
        scenario_id,
        until=period.month_start(3) - timedelta(days=1),
    )
    owed = [f for f, _, active in (ran.findings if ran else ()) if active]
    if ran is not None:
        remediation.source = tuple(f for f, _, _ in ran.findings)
        remediation.data = {"open_findings": owed}
        remediation.reason += f": {len(owed)} of {len(ran.findings)} finding(s) of {ran.label} open"
    remediation.record = ran.label if ran else None
    if ran is not None and not owed:
        remediation.status = "done"
    elif remediation.until is not None and remediation.until < inputs.today:
        remediation.status = "overdue"
    wanted = {t for _, t, _ in (ran.findings if ran else ()) if t}
    wanted |= {t for t in (info.tags if info else ()) if ATTACK.fullmatch(t)}
    plan, covered = choose_drill(inputs.drill_plans, wanted)
    if plan is None:
        why = "no drill plan in drills/: write one (docs/running-a-drill.md)"
    elif covered:
        why = f"{plan.name} covers {', '.join(sorted(covered))} from the tabletop's findings"
    else:
        why = f"no finding maps to a drill technique: {plan.name} as a general detection sweep"
    drill = ScheduleItem(
        "drill",
        team,
        period.label,
        _on(period, 3),
        f"Chaos drill: {plan.name if plan else 'to choose'}",
        f"month 3: {why}",
        scenario_id,
        drill_plan=plan.path if plan else None,
        source=tuple(f for f, t, _ in (ran.findings if ran else ()) if t in covered),
    )
    run = matcher.drill(team, period)
    _settle(drill, run.id if run else None, run is not None, inputs.today)
    reported = ran.reported_at.date() if ran and ran.reported_at else None
    base = reported or (ran.run_date if ran else tabletop.due)
    followup = ScheduleItem(
        "followup",
        team,
        period.label,
        base + inputs.followup_after,
        "Follow-up: did each fix move? (15 minutes)",
        f"{inputs.followup_after.days} days after the "
        + ("report" if reported else "tabletop")
        + (f" of {ran.label}" if ran else ""),
        scenario_id,
        record=ran.label if ran else None,
    )
    if ran is not None and ran.status == "followed_up":
        followup.status = "done"
    elif followup.due < inputs.today:
        followup.status = "overdue"
    return [tabletop, remediation, drill, followup]


def _extras(inputs: ScheduleInputs, period: Period, matcher: _Matcher) -> list[ScheduleItem]:
    out = []
    for trigger in inputs.triggers:
        if trigger.kind == "incident":
            due = trigger.on + inputs.followup_after
        else:  # the quarter after the change (first seed)
            due = _on(next_quarter(quarter_of(trigger.on)), 2)
        if due not in period:
            continue
        scenario_id = trigger.scenario_id
        info = inputs.scenarios.get(scenario_id or "")
        item = ScheduleItem(
            "extra_tabletop",
            trigger.team,
            period.label,
            due,
            f"Extra tabletop: {info.title if info else 'scenario from the post-mortem'}",
            trigger.reason,
            scenario_id,
            source=trigger.source,
        )
        record = matcher.exercise(trigger.team, period, scenario_id, after=trigger.on)
        _settle(
            item, record.label if record else None, bool(record and record.started), inputs.today
        )
        out.append(item)
    return out


def _reviews(inputs: ScheduleInputs, items: Sequence[ScheduleItem]) -> list[ScheduleItem]:
    """A review before each rehearsal of a scenario that would be stale that day."""
    out = []
    seen: set[tuple[str, str]] = set()
    for item in items:
        if item.kind not in ("tabletop", "extra_tabletop") or item.status == "done":
            continue
        info = inputs.scenarios.get(item.scenario_id or "")
        if info is None or not is_stale(info, item.due, inputs.review_every):
            continue
        key = (info.id, item.quarter)
        if key in seen:
            continue
        seen.add(key)
        review = ScheduleItem(
            "review",
            None,
            item.quarter,
            item.due - REVIEW_AHEAD,
            f"Review scenario {info.id}",
            f"stale: last reviewed {info.last_reviewed}, more than "
            f"{inputs.review_every.days} days before it is rehearsed on {item.due}",
            info.id,
        )
        if review.due < inputs.today:
            review.status = "overdue"
        out.append(review)
    return out
