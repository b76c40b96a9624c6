"""The 30-day follow-up and the carry-over into the next brief."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.clock import FakeClock
from drillbook.config import database_url
from drillbook.domain.exercise import service
from drillbook.domain.exercise.enums import ExerciseStatus
from drillbook.domain.finding.service import create_finding, get_finding, set_status
from drillbook.flows.exercise_brief import brief_inputs, mark_brief_sent
from drillbook.flows.exercise_report import mark_reported
from drillbook.flows.followup import carry_over_items, followup_items, record_followup
from drillbook.library.loader import load_scenario_file
from drillbook.storage.engine import Store
from tests.helpers import SEED


def _reported_exercise(store: Store, team: str) -> int:
    scenario = load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    with store.session() as session:
        exercise = service.create_exercise(session, scenario=scenario, team=team)
        service.start(session, exercise)
        service.end(session, exercise)
        for severity in ("high", "critical"):
            create_finding(
                session,
                description=f"{severity} gap",
                severity=severity,
                source="exercise",
                exercise_id=exercise.id,
                team=team,
                owner="sre-team",
                proposed_remediation=f"fix the {severity} gap",
            )
        mark_reported(session, exercise)
        return exercise.id


def test_unmoved_fixes_carry_over(store: Store, fake_clock: FakeClock) -> None:
    sre = _reported_exercise(store, "sre")
    _reported_exercise(store, "legal")
    with store.session() as session:
        assert followup_items(session, days=30) == []  # too early
        assert carry_over_items(session, "sre") == []
    fake_clock.advance(timedelta(days=20))
    with store.session() as session:
        set_status(session, get_finding(session, "F-002"), "in_progress")
    fake_clock.advance(timedelta(days=11))
    with store.session() as session:
        items = followup_items(session, days=30, team="sre")
        assert [(i.finding.id, i.moved) for i in items] == [("F-001", False), ("F-002", True)]
        carried = carry_over_items(session, "sre")
        assert len(carried) == 1
        assert carried[0].startswith("F-001 (high, sre-team")
        assert "fix the high gap" in carried[0]
        assert len(carry_over_items(session, None)) == 3
        assert record_followup(session, items) == [f"EX-{sre}"]
        assert service.get_exercise(session, sre).status == ExerciseStatus.FOLLOWED_UP
        # a followed-up exercise still shows in later follow-ups
        assert len(followup_items(session, days=30, team="sre")) == 2


def test_a_change_before_the_report_is_not_progress(store: Store, fake_clock: FakeClock) -> None:
    scenario = load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    with store.session() as session:
        exercise = service.create_exercise(session, scenario=scenario, team="sre")
        service.start(session, exercise)
        service.end(session, exercise)
        finding = create_finding(
            session, description="gap", severity="high", source="exercise", exercise_id=exercise.id
        )
        set_status(session, finding, "in_progress", note="picked up in the review")
        fake_clock.advance(timedelta(hours=1))  # same day
        mark_reported(session, exercise)
    fake_clock.advance(timedelta(days=31))
    with store.session() as session:
        [item] = followup_items(session, days=30, team="sre")
    assert item.moved is False
    assert item.last_change == item.reported_on


def test_brief_inputs_carry_unmoved_fixes(store: Store, fake_clock: FakeClock) -> None:
    _reported_exercise(store, "sre")
    fake_clock.advance(timedelta(days=31))
    scenario = load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    with store.session() as session:
        nxt = service.create_exercise(
            session, scenario=scenario, team="sre", assignments={"incident_lead": "alice"}
        )
        inputs = brief_inputs(session, nxt.id)
        assert inputs.roles == {"incident_commander": "alice"}
        assert len(inputs.carry_over) == 2
        assert mark_brief_sent(session, nxt.id) is True
        assert mark_brief_sent(session, nxt.id) is False
        assert nxt.status == ExerciseStatus.BRIEFED


def test_brief_command_puts_carry_over_first_and_marks_briefed(
    tmp_path: Path, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`exercise brief --exercise` is the wire from the 30-day follow-up to the next brief."""
    library = tmp_path / "lib"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(library)]).exit_code == 0
    (library / "scenarios" / "mcp.yaml").write_text(
        (SEED / "scenarios" / "data-exfil-via-mcp.yaml").read_text()
    )
    monkeypatch.chdir(library)
    store = Store(database_url(library))
    _reported_exercise(store, "sre")
    fake_clock.advance(timedelta(days=31))
    scenario = load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    with store.session() as session:
        nxt = service.create_exercise(
            session, scenario=scenario, team="sre", assignments={"incident_lead": "alice"}
        )
        next_id = nxt.id
    done = runner.invoke(app, ["exercise", "brief", "--exercise", str(next_id)])
    assert done.exit_code == 0, done.output
    agenda = done.output[done.output.index("F-001") :]
    assert "fix the high gap" in agenda
    assert "alice" in done.output
    assert "You confirm 250GB" not in done.output  # no injects in a brief
    with store.session() as session:
        assert service.get_exercise(session, next_id).status == ExerciseStatus.BRIEFED
    store.close()


def test_next_brief_carries_unmoved_fixes_and_stores_one_date(
    tmp_path: Path, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next brief of the team, only a week after the report (no 30-day window), opens
    with the unmoved fixes; `--date` is stored on the exercise, and the brief, the .ics and
    the exercise agree on it; seat warnings go to stderr, not into the brief."""
    library = tmp_path / "lib"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(library)]).exit_code == 0
    (library / "scenarios" / "mcp.yaml").write_text(
        (SEED / "scenarios" / "data-exfil-via-mcp.yaml").read_text()
    )
    monkeypatch.chdir(library)
    store = Store(database_url(library))
    _reported_exercise(store, "sre")
    fake_clock.advance(timedelta(days=7))
    scenario = load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    with store.session() as session:
        service.create_exercise(session, scenario=scenario, team="sre")
    ics = tmp_path / "next.ics"
    done = runner.invoke(
        app, ["exercise", "brief", "--date", "2026-05-14T14:00Z", "--ics", str(ics), "-o", "-"]
    )
    assert done.exit_code == 0, done.output
    agenda = done.stdout[done.stdout.index("## Agenda") :]
    assert agenda.index("fix the high gap") < agenda.index("Minute 0-")
    assert "nobody assigned" not in done.stdout
    assert "warning:" in done.stderr
    assert "nobody assigned" in done.stderr
    assert "**When:** Thursday 14 May 2026, 14:00 UTC" in done.stdout
    assert b"DTSTART:20260514T140000Z" in ics.read_bytes()
    shown = runner.invoke(app, ["exercise", "show", "--json"])
    assert '"date": "2026-05-14"' in shown.stdout
    again = runner.invoke(app, ["exercise", "brief", "-e", "2", "-o", "-"])
    assert "**When:** Thursday 14 May 2026, 14:00 UTC" in again.stdout
    store.close()


def test_create_stores_the_start_time_the_brief_uses(
    tmp_path: Path, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = tmp_path / "lib"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(library)]).exit_code == 0
    (library / "scenarios" / "mcp.yaml").write_text(
        (SEED / "scenarios" / "data-exfil-via-mcp.yaml").read_text()
    )
    monkeypatch.chdir(library)
    made = runner.invoke(
        app, ["exercise", "create", "scenario-2026-q2-001", "--date", "2026-05-16T09:00Z"]
    )
    assert made.exit_code == 0, made.output
    brief = runner.invoke(app, ["exercise", "brief", "-o", "-"])
    assert "**When:** Saturday 16 May 2026, 09:00 UTC" in brief.stdout
    # 48 hours after a Saturday-morning session falls on the Monday: no weekend note
    assert "Report due: Monday 18 May 2026, 10:30 UTC." in brief.stdout
    bad = runner.invoke(app, ["exercise", "create", "scenario-2026-q2-001", "--date", "soon"])
    assert bad.exit_code == 2
    assert "write YYYY-MM-DD or a start time" in bad.stderr


def test_database_written_items_equal_the_objects_json(store: Store, fake_clock: FakeClock) -> None:
    """`followup --json` (items written by the database) says what the item objects say,
    byte for byte: reported and unreported runs, moves before and after the report, a
    closed fix, a risk accepted, awkward owners and a run without a report time."""
    import json

    from sqlalchemy import update

    from drillbook.cli.output import _default
    from drillbook.domain.exercise.models import Exercise
    from drillbook.flows.followup import followup_item_texts, item_summary

    first = _reported_exercise(store, "sre")
    second = _reported_exercise(store, 'legal "team"\n')
    with store.session() as session:
        set_status(session, get_finding(session, "F-001"), "in_progress", note="after it")
    fake_clock.advance(timedelta(days=3))
    with store.session() as session:
        set_status(session, get_finding(session, "F-003"), "resolved")
        finding = get_finding(session, "F-004")
        finding.owner = 'ünï "quoted"\towner'
        set_status(
            session,
            finding,
            "risk_accepted",
            note="accepted",
            expires=fake_clock.now().date() + timedelta(days=60),
        )
        # a run recorded without a report time: its run date counts
        session.execute(update(Exercise).where(Exercise.id == second).values(reported_at=None))
    fake_clock.advance(timedelta(days=40))
    encode = json.JSONEncoder(default=_default, ensure_ascii=False, separators=(",", ":")).encode
    for team in (None, "sre"):
        with store.session() as session:
            items = followup_items(session, days=30, team=team)
            expected = [encode(item_summary(i)) for i in items]
        with store.reading() as session:
            assert list(followup_item_texts(session, days=30, team=team)) == expected
    assert {(i.exercise.id, i.finding.id, i.moved) for i in items} == {
        (first, "F-001", True),
        (first, "F-002", False),
    }
    with store.reading() as session:
        assert list(followup_item_texts(session, days=60)) == []


@pytest.mark.parametrize("count", [0, 1, 2, 3, 5])
@pytest.mark.parametrize("batch", [1, 2, 4])
def test_streamed_document_is_the_one_print_json_compact_writes(
    capsys: pytest.CaptureFixture[str], count: int, batch: int
) -> None:
    """`followup --json` streams its items in batches; the document is byte for byte the
    one the recording path writes (whatever the batch boundaries)."""
    import json

    from drillbook.cli.followup import _stream_followup
    from drillbook.cli.streaming import TIGHT, print_json_compact

    items = [{"finding": f"F-{n:03d}", "owner": 'a "b"', "moved": n % 2 == 0} for n in range(count)]
    texts = [json.dumps(i, ensure_ascii=False, separators=TIGHT) for i in items]
    _stream_followup(30, iter(texts), batch=batch)
    streamed = capsys.readouterr().out
    print_json_compact(
        {"days": 30, "recorded": [], "verified": [], "items": items}, separators=TIGHT
    )
    assert streamed == capsys.readouterr().out
    assert json.loads(streamed)["items"] == items
