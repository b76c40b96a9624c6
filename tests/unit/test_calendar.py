"""The brief's .ics: session, 48-hour report deadline, 30-day follow-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar

from drillbook.domain.program.models import Program
from drillbook.errors import ConfigError
from drillbook.library.loader import load_scenario_file
from drillbook.planning.brief import build_brief
from drillbook.planning.calendar import build_calendar
from drillbook.planning.roles import assign_roles

START = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def _events(data: bytes) -> dict[str, tuple[datetime, datetime]]:
    calendar = Calendar.from_ical(data)
    out = {}
    for event in calendar.walk("VEVENT"):
        kind = str(event["uid"]).split("-")[-1].split("@")[0]
        out[kind] = (event.decoded("dtstart"), event.decoded("dtend"))
    return out


def test_three_events_on_the_right_dates(seed_dir: Path, fake_clock: object) -> None:
    scenario = load_scenario_file(seed_dir / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    made = build_brief(scenario, assign_roles(scenario, {"ic": "alice"}, None), session_start=START)
    events = _events(build_calendar(made))
    assert set(events) == {"session", "report", "followup"}
    end = START + timedelta(minutes=90)
    assert events["session"] == (START, end)
    assert events["report"][0] == end + timedelta(hours=48)
    assert events["followup"] == (end + timedelta(days=30), end + timedelta(days=30, minutes=15))
    assert b"Incident Lead: alice" in build_calendar(made)


def test_cadence_from_the_program(seed_dir: Path) -> None:
    scenario = load_scenario_file(seed_dir / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    program = Program.model_validate(
        {"organisation": "N", "cadence": {"report_within": "24h", "followup_after": "2w"}}
    )
    made = build_brief(
        scenario, assign_roles(scenario, {}, program), session_start=START, program=program
    )
    events = _events(build_calendar(made))
    end = START + timedelta(minutes=90)
    assert events["report"][0] == end + timedelta(hours=24)
    assert events["followup"][0] == end + timedelta(days=14)


def test_a_calendar_needs_a_date(seed_dir: Path) -> None:
    scenario = load_scenario_file(seed_dir / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    with pytest.raises(ConfigError, match="--date"):
        build_calendar(build_brief(scenario, assign_roles(scenario, {}, None)))
