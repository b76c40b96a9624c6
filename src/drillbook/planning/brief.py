"""The pre-read sent 24 hours before (first seed, walkthrough step 2).

"Roles assigned, scenario stated, time-box noted. Do not pre-share the new information
that drops mid-exercise; surprise is part of the rehearsal." So the brief carries the
scenario's ``initial_state`` and never an inject, escalation or decision option. Fixes
that did not move since the last follow-up come first on the agenda (step 5: "items that
did not move become the first agenda item of the next quarterly tabletop"); the
follow-up feature passes them in as ``carry_over``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from drillbook.documents.durations import parse_duration
from drillbook.domain.program.models import Cadence, Program
from drillbook.domain.scenario.models import Scenario
from drillbook.planning.roles import RolePlan
from drillbook.planning.script import session_phases
from drillbook.planning.variations import Variations, planned_duration, scope_statement

BRIEF_LEAD_TIME = timedelta(hours=24)


def weekend_note(moment: date | datetime | None) -> str:
    """ " (a Saturday)" when a deadline falls on a weekend, so nobody discovers on Monday
    that the 48-hour report was due on Sunday; "" otherwise."""
    if moment is None or moment.weekday() < 5:
        return ""
    return f" (a {moment.strftime('%A')})"


@dataclass
class Brief:
    scenario_id: str
    title: str
    statement: str
    duration_minutes: int
    roles: RolePlan
    agenda: list[str]
    bring: list[str]
    report_within: timedelta
    followup_after: timedelta
    session_start: datetime | None = None
    carry_over: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    session_date: date | None = None
    """The day, when only the day is known (a stored exercise without a start time)."""
    warnings: list[str] = field(default_factory=list)
    """For the facilitator (empty seats, unknown people), never printed in the brief
    itself: participants read the brief; the tool's hints go to stderr."""

    @property
    def session_end(self) -> datetime | None:
        if self.session_start is None:
            return None
        return self.session_start + timedelta(minutes=self.duration_minutes)

    @property
    def send_by(self) -> datetime | None:
        return self.session_start - BRIEF_LEAD_TIME if self.session_start else None

    @property
    def report_due(self) -> datetime | None:
        end = self.session_end
        return end + self.report_within if end else None

    @property
    def followup_on(self) -> datetime | None:
        end = self.session_end
        return end + self.followup_after if end else None

    def as_dict(self) -> dict[str, Any]:
        def iso(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "scenario": self.scenario_id,
            "title": self.title,
            "statement": self.statement,
            "duration_minutes": self.duration_minutes,
            "session_date": self.session_date.isoformat() if self.session_date else None,
            "session_start": iso(self.session_start),
            "session_end": iso(self.session_end),
            "send_by": iso(self.send_by),
            "report_due": iso(self.report_due),
            "followup_on": iso(self.followup_on),
            "roles": {"seats": self.roles.as_dict()["seats"]},
            "agenda": self.agenda,
            "carry_over": self.carry_over,
            "bring": self.bring,
            "notes": self.notes,
        }


def _bring(variations: Variations) -> list[str]:
    items = [
        "Everyone: access to the audit logs, the admin console and the incident channel you "
        "really use (you will open them, not change them).",
        "Everyone: the incident-response policy and this week's on-call rota.",
        "Incident Lead: the escalation contacts (leadership, legal, key customers).",
        "Comms Lead: your customer-message templates and the status-page login.",
        "Technical Lead: know how you would revoke an API key and pause an agent (do not do "
        "it during the exercise).",
        "Observer: a notebook or doc with a clock; you log, you do not speak.",
    ]
    if variations.is_regulated:
        names = ", ".join(j.value for j in variations.chosen_jurisdictions)
        items.append(f"Legal: the notification procedures and contacts for {names}.")
    if variations.distributed:
        items.append("Camera, a quiet room, and edit access to the shared document.")
    return items


def build_brief(
    scenario: Scenario,
    roles: RolePlan,
    *,
    variations: Variations | None = None,
    session_start: datetime | None = None,
    carry_over: Sequence[str] = (),
    program: Program | None = None,
    session_date: date | None = None,
) -> Brief:
    """The pre-read for ``scenario``: statement, roles, time-box, agenda, what to bring."""
    variations = variations or Variations()
    cadence = program.cadence if program is not None else Cadence()
    duration = planned_duration(scenario, variations)
    carried = [item.strip() for item in carry_over if item.strip()]
    agenda = [f"Carried over from the last follow-up: {item}" for item in carried]
    for window in session_phases(scenario, duration):
        agenda.append(
            f"Minute {round(window.start_minute)}-{round(window.end_minute)}: {window.name.label}"
        )
    agenda.append(
        "Before anyone leaves: every fix gets an owner and a date; the next "
        "rehearsal goes on the calendar."
    )
    report_within = parse_duration(cadence.report_within)
    followup_after = parse_duration(cadence.followup_after)
    notes = [
        "The new information that arrives during the exercise is not in this brief: surprise "
        "is part of the rehearsal.",
        "No production changes are made during the exercise.",
        f"The written report is due within {round(report_within.total_seconds() / 3600)} "
        f"hours; fixes are checked {followup_after.days} days later.",
    ]
    scope = scope_statement(variations)
    if scope:
        notes.insert(0, scope)
    return Brief(
        scenario_id=scenario.id,
        title=scenario.title,
        statement=scenario.initial_state.strip(),
        duration_minutes=duration,
        roles=roles,
        agenda=agenda,
        bring=_bring(variations),
        report_within=report_within,
        followup_after=followup_after,
        session_start=session_start,
        carry_over=carried,
        notes=notes,
        session_date=session_start.date() if session_start else session_date,
        warnings=list(roles.warnings),
    )
