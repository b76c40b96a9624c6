"""The ``.ics`` file sent with the brief: the session, the report deadline, the follow-up.

The first seed: "write the report within 48 hours" and "schedule a 15-minute followup on
the calendar at fix-list creation time" (30 days later). Durations come from the
program's cadence (``drillbook.yaml`` ``cadence.report_within`` / ``followup_after``)
through the brief. Written with the ``icalendar`` package so any calendar client reads it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from icalendar import Calendar, Event

from drillbook import clock
from drillbook.errors import ConfigError
from drillbook.planning.brief import Brief

FOLLOWUP_LENGTH = timedelta(minutes=15)
DEADLINE_LENGTH = timedelta(minutes=30)


def _event(uid: str, summary: str, start: datetime, length: timedelta, description: str) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", clock.now())
    event.add("dtstart", start)
    event.add("dtend", start + length)
    event.add("summary", summary)
    event.add("description", description)
    return event


def build_calendar(brief: Brief) -> bytes:
    """Three events for ``brief``; the brief must have a session start (``--date``)."""
    start, end = brief.session_start, brief.session_end
    report_due, followup = brief.report_due, brief.followup_on
    if start is None or end is None or report_due is None or followup is None:
        raise ConfigError(
            "the calendar needs the session date: pass --date, e.g. --date 2026-12-01T14:00Z"
        )
    stamp = start.strftime("%Y%m%dT%H%M%SZ")
    calendar = Calendar()
    calendar.add("prodid", "-//drillbook//tabletop brief//EN")
    calendar.add("version", "2.0")
    roles = "; ".join(
        f"{s.label}: {s.person or 'unassigned'}"
        for s in brief.roles.seats
        if s.required or s.person
    )
    calendar.add_component(
        _event(
            f"{brief.scenario_id}-{stamp}-session@drillbook",
            f"Tabletop exercise: {brief.title}",
            start,
            end - start,
            f"Scenario {brief.scenario_id}. Roles: {roles}. The pre-read is the brief.",
        )
    )
    calendar.add_component(
        _event(
            f"{brief.scenario_id}-{stamp}-report@drillbook",
            f"Tabletop report due: {brief.title}",
            report_due,
            DEADLINE_LENGTH,
            "Write the tabletop report: participants, phase-by-phase decisions, fix list with "
            "owners and dates, next rehearsal.",
        )
    )
    calendar.add_component(
        _event(
            f"{brief.scenario_id}-{stamp}-followup@drillbook",
            f"Tabletop follow-up: {brief.title}",
            followup,
            FOLLOWUP_LENGTH,
            "Verify each fix moved. Fixes that did not move become the first agenda item of the "
            "next tabletop.",
        )
    )
    data: bytes = calendar.to_ical()
    return data
