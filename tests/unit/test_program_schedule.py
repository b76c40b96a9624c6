"""The schedule: rotation, the tabletop -> remediation -> drill cycle, follow-ups, and
extra tabletops from inventory changes in a real git repository and from incidents."""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from icalendar import Calendar
from typer.testing import CliRunner

from drillbook.cli import finding as finding_cli
from drillbook.cli.main import app
from drillbook.clock import FakeClock
from drillbook.config import database_url
from drillbook.domain.exercise import service as exercises
from drillbook.domain.finding.service import create_finding
from drillbook.domain.program.periods import quarter, quarters_from
from drillbook.domain.program.schedule import (
    AGENT_ROTATION,
    ScenarioInfo,
    ScheduleInputs,
    build_schedule,
)
from drillbook.library.loader import load_library
from drillbook.library.scaffolding import scaffold
from drillbook.storage.engine import Store
from tests.helpers import require_binary

PROGRAM = """\
organisation: Example
teams:
  - id: alpha
  - id: beta
  - id: gamma
"""
INVENTORY = """\
organisation: Example
agents:
  - name: support-assistant
    team: alpha
    tools: [crm-write]
tools:
  - name: crm-write
    risk: crm_write
"""


def _scenarios() -> dict[str, ScenarioInfo]:
    infos = {str(c): ScenarioInfo(id=str(c), title=str(c), category=str(c)) for c in AGENT_ROTATION}
    infos["ransomware"] = ScenarioInfo(id="ransomware", title="r", category="ransomware")
    return infos


def test_three_teams_rotate_the_three_agent_scenarios_once_a_year() -> None:
    inputs = ScheduleInputs(
        teams=["alpha", "beta", "gamma"],
        quarters=quarters_from(quarter(2027, 2), 4),  # any four consecutive quarters
        scenarios=_scenarios(),
        today=date(2027, 4, 1),
    )
    items = build_schedule(inputs)
    tabletops = [i for i in items if i.kind == "tabletop"]
    for team in ("alpha", "beta", "gamma"):
        seen = Counter(i.scenario_id for i in tabletops if i.team == team)
        assert seen == Counter({str(c): 1 for c in AGENT_ROTATION} | {"ransomware": 1}), team
    for period in inputs.quarters:
        agent = [i.scenario_id for i in tabletops if i.quarter == period.label]
        assert len(set(agent)) == 3, "teams rehearse different incidents in one quarter"
    # the cycle: tabletop month 1, remediation month 2, drill month 3, follow-up 30 days on
    alpha_q = [i for i in items if i.team == "alpha" and i.quarter == "2027-Q2"]
    assert [(i.kind, i.due) for i in alpha_q] == [
        ("tabletop", date(2027, 4, 15)),
        ("remediation", date(2027, 5, 1)),
        ("followup", date(2027, 5, 15)),
        ("drill", date(2027, 6, 15)),
    ]
    assert all(i.status == "planned" for i in items)


def _git(root: Path, *args: str, day: str | None = None) -> None:
    env = dict(os.environ)
    env.update(
        GIT_AUTHOR_NAME="t",
        GIT_AUTHOR_EMAIL="t@example.invalid",
        GIT_COMMITTER_NAME="t",
        GIT_COMMITTER_EMAIL="t@example.invalid",
    )
    if day:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"{day}T12:00:00+00:00"
    subprocess.run(["git", "-C", str(root), *args], check=True, env=env, capture_output=True)


@pytest.fixture
def library(tmp_path: Path) -> Path:
    require_binary("git")
    root = tmp_path / "lib"
    scaffold(root)
    (root / "drillbook.yaml").write_text(PROGRAM)
    (root / "inventory.yaml").write_text(INVENTORY)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "start", day="2026-01-05")
    return root


def _schedule(runner: CliRunner, root: Path, *args: str) -> dict:
    result = runner.invoke(app, ["-L", str(root), "schedule", "--json", *args])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def _extras(data: dict) -> list[dict]:
    return [i for i in data["items"] if i["kind"] == "extra_tabletop"]


def test_a_commit_that_adds_an_agent_adds_an_exercise(
    library: Path, runner: CliRunner, fake_clock: FakeClock
) -> None:
    fake_clock.set(datetime(2026, 6, 1, 9, tzinfo=UTC))
    assert _extras(_schedule(runner, library)) == []
    text = (
        INVENTORY.replace(
            "tools:\n",
            "  - name: billing-bot\n    team: beta\n    tools: [refund]\ntools:\n",
        )
        + "  - name: refund\n    risk: payment\n"
    )
    (library / "inventory.yaml").write_text(text)
    _git(library, "commit", "-qam", "Add the billing bot", day="2026-05-10")
    extras = _extras(_schedule(runner, library))
    assert [(e["team"], e["due"], e["scenario"]) for e in extras] == [
        ("beta", "2026-08-15", "agent-prompt-injection-gentle"),  # new agent
        ("beta", "2026-08-15", "agent-improper-tool-fire-gentle"),  # new tool it calls
    ]
    assert "new agent 'billing-bot'" in extras[0]["reason"]
    assert "Add the billing bot" in extras[0]["reason"]
    assert extras[0]["source"][0].startswith("commit ")
    # a team that holds sensitive data joins: the wrong-team scenario, for that team
    (library / "inventory.yaml").write_text(
        text + "teams:\n  - id: payroll\n    sensitive_data: true\n"
    )
    _git(library, "commit", "-qam", "Onboard payroll", day="2026-05-20")
    extras = _extras(_schedule(runner, library))
    assert ("payroll", "agent-wrong-team-exposure-gentle") in {
        (e["team"], e["scenario"]) for e in extras
    }


def test_a_broken_inventory_commit_is_skipped_and_said(
    library: Path, runner: CliRunner, fake_clock: FakeClock
) -> None:
    fake_clock.set(datetime(2026, 6, 1, 9, tzinfo=UTC))
    (library / "inventory.yaml").write_text("agents: [\n")
    _git(library, "commit", "-qam", "oops", day="2026-05-01")
    data = _schedule(runner, library)
    assert any("does not parse; skipped" in n for n in data["notes"])
    assert any(" line " in n for n in data["notes"])


def test_an_incident_adds_a_tabletop_and_the_drill_comes_from_the_findings(
    library: Path, runner: CliRunner, fake_clock: FakeClock
) -> None:
    fake_clock.set(datetime(2026, 4, 16, 9, tzinfo=UTC))
    lib = load_library(library)
    store = Store(database_url(library))
    try:
        with store.session() as session:
            scenario = lib.scenarios["agent-wrong-team-exposure-gentle"].scenario
            exercise = exercises.create_exercise(session, scenario=scenario, team="alpha")
            exercises.start(session, exercise)
            exercises.end(session, exercise)
            create_finding(
                session,
                description="nobody saw the discovery commands",
                severity="high",
                source="exercise",
                exercise_id=exercise.id,
                team="alpha",
                technique="T1082",
            )
    finally:
        store.close()
    result = runner.invoke(
        app,
        [
            "-L",
            str(library),
            "incident",
            "add",
            "--title",
            "Agent leaked a <b>quote</b>",
            "--date",
            "2026-04-10",
            "--team",
            "gamma",
            "--category",
            "prompt_injection",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "INC-1" in result.output
    assert "no exercise" in " ".join(result.output.split())
    data = _schedule(runner, library, "--quarters", "1")
    extra = _extras(data)
    assert [(e["team"], e["due"], e["scenario"], e["source"]) for e in extra] == [
        ("gamma", "2026-05-10", "agent-prompt-injection-gentle", ["INC-1"])
    ]
    alpha = {i["kind"]: i for i in data["items"] if i["team"] == "alpha"}
    assert alpha["tabletop"]["status"] == "done"
    assert alpha["tabletop"]["record"] == "EX-1"
    assert alpha["drill"]["drill_plan"] == "drills/host-discovery.yaml"
    assert "covers T1082" in alpha["drill"]["reason"]
    assert alpha["drill"]["source"] == ["F-001"]
    assert alpha["remediation"]["status"] == "planned"
    assert "1 of 1 finding(s) of EX-1 open" in alpha["remediation"]["reason"]


def test_due_lists_what_is_overdue_and_ics_is_a_calendar(
    library: Path, runner: CliRunner, fake_clock: FakeClock, tmp_path: Path
) -> None:
    fake_clock.set(datetime(2026, 5, 20, 9, tzinfo=UTC))
    ics = tmp_path / "program.ics"
    result = runner.invoke(app, ["-L", str(library), "schedule", "--due", "--ics", str(ics)])
    assert result.exit_code == 1  # something is overdue: scripts (and CI) can tell
    data = _schedule(runner, library, "--due")
    assert {(i["team"], i["kind"]) for i in data["items"]} == {
        ("alpha", "tabletop"),
        ("beta", "tabletop"),
        ("gamma", "tabletop"),
        ("alpha", "followup"),
        ("beta", "followup"),
        ("gamma", "followup"),
    }
    events = Calendar.from_ical(ics.read_bytes()).walk("VEVENT")
    assert len(events) == 6
    assert str(events[0]["summary"]).startswith("Tabletop:")
    fake_clock.set(datetime(2026, 4, 2, 9, tzinfo=UTC))
    ok = runner.invoke(app, ["-L", str(library), "schedule", "--due"])
    assert ok.exit_code == 0
    assert "nothing is overdue" in ok.output


def test_a_stale_own_scenario_is_reviewed_before_it_is_rehearsed(
    library: Path, runner: CliRunner, fake_clock: FakeClock
) -> None:
    fake_clock.set(datetime(2026, 6, 1, 9, tzinfo=UTC))
    path = library / "scenarios" / "agent-wrong-team-exposure-gentle.yaml"
    text = path.read_text()
    assert "last_reviewed" in text
    lines = [
        "last_reviewed: 2025-01-01" if line.startswith("last_reviewed") else line
        for line in text.splitlines()
    ]
    path.write_text("\n".join(lines) + "\n")
    data = _schedule(runner, library)
    reviews = [i for i in data["items"] if i["kind"] == "review"]
    assert reviews
    assert all(r["scenario"] == "agent-wrong-team-exposure-gentle" for r in reviews)
    first = reviews[0]
    tabletop = next(
        i
        for i in data["items"]
        if i["kind"] == "tabletop"
        and i["scenario"] == first["scenario"]
        and i["quarter"] == first["quarter"]
    )
    assert date.fromisoformat(first["due"]) == date.fromisoformat(tabletop["due"]) - timedelta(14)
    assert "last reviewed 2025-01-01" in first["reason"]


def test_metrics_and_incident_list_on_the_command_line(
    library: Path, runner: CliRunner, fake_clock: FakeClock
) -> None:
    fake_clock.set(datetime(2026, 4, 16, 9, tzinfo=UTC))
    lib = load_library(library)
    store = Store(database_url(library))
    try:
        with store.session() as session:
            scenario = lib.scenarios["agent-wrong-team-exposure-gentle"].scenario
            exercise = exercises.create_exercise(session, scenario=scenario, team="alpha")
            exercises.start(session, exercise)
            exercises.end(session, exercise)
            create_finding(
                session,
                description="[red]no on-call rota[/red]",
                severity="critical",
                source="exercise",
                exercise_id=exercise.id,
                team="alpha",
            )
    finally:
        store.close()
    fake_clock.set(datetime(2026, 6, 1, 9, tzinfo=UTC))
    text = runner.invoke(app, ["-L", str(library), "metrics", "--quarter", "2026-Q2"])
    assert text.exit_code == 0, text.output
    flat = " ".join(text.output.split())
    assert "past_sla" in flat
    assert "F-001" in flat
    data = json.loads(
        runner.invoke(app, ["-L", str(library), "metrics", "--json", "--team", "alpha"]).stdout
    )
    assert data["teams"][0]["team"] == "alpha"
    assert data["teams"][0]["tabletops"] == 1
    assert [s["kind"] for s in data["signals"]] == ["past_sla"]
    bad = runner.invoke(app, ["-L", str(library), "metrics", "--quarter", "Q9"])
    assert bad.exit_code == 1
    assert "YYYY-Qn" in bad.output
    runner.invoke(
        app,
        ["-L", str(library), "incident", "add", "--title", "x", "--date", "2026-05-01"],
    )
    listed = json.loads(
        runner.invoke(app, ["-L", str(library), "incident", "list", "--json"]).stdout
    )
    assert [(i["id"], i["date"]) for i in listed] == [("INC-1", "2026-05-01")]
    future = runner.invoke(
        app, ["-L", str(library), "incident", "add", "--title", "y", "--date", "2027-01-01"]
    )
    assert future.exit_code == 1
    assert "in the future" in future.output


def test_finding_pages_and_rank_read_plain_rows(
    library: Path, runner: CliRunner, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_clock.set(datetime(2026, 4, 16, 9, tzinfo=UTC))
    store = Store(database_url(library))
    try:
        with store.session() as session:
            for n in range(5):
                create_finding(
                    session,
                    description=f"gap number {n} in the on-call rota",
                    severity="high",
                    source="incident",
                    source_ref=f"INC-{n}",
                    capability="on_call",
                    team="alpha",
                )
    finally:
        store.close()
    base = ["-L", str(library), "finding", "list", "--json"]
    first = runner.invoke(app, [*base, "--limit", "2"])
    assert [f["id"] for f in json.loads(first.stdout)] == ["F-001", "F-002"]
    assert "more: --cursor F-002" in first.stderr
    second = runner.invoke(app, [*base, "--limit", "2", "--cursor", "F-002"])
    assert [f["id"] for f in json.loads(second.stdout)] == ["F-003", "F-004"]
    last = runner.invoke(app, [*base, "--cursor", "F-004"])
    assert [f["id"] for f in json.loads(last.stdout)] == ["F-005"]
    assert "more:" not in last.stderr
    everything = json.loads(runner.invoke(app, base).stdout)
    assert [h["to"] for h in everything[0]["history"]] == ["open"]
    # without --limit, JSON is a page too (of JSON_PAGE); --all is every finding
    monkeypatch.setattr(finding_cli, "JSON_PAGE", 3)
    paged = runner.invoke(app, base)
    assert [f["id"] for f in json.loads(paged.stdout)] == ["F-001", "F-002", "F-003"]
    assert "more: --cursor F-003 (or --all for every one)" in paged.stderr
    every = runner.invoke(app, [*base, "--all"])
    assert json.loads(every.stdout) == everything
    assert "more:" not in every.stderr
    both = runner.invoke(app, [*base, "--all", "--limit", "2"])
    assert both.exit_code == 2
    assert "--all and --limit" in both.stderr
    table = runner.invoke(app, ["-L", str(library), "finding", "list", "--limit", "3"])
    assert "page of 5" in " ".join(table.output.split())
    ranked = json.loads(
        runner.invoke(app, ["-L", str(library), "finding", "rank", "--json", "--limit", "2"]).stdout
    )
    assert [r["id"] for r in ranked] == ["F-001", "F-002"]
    assert ranked[0]["recurred_in"] == [
        "incident:INC-1",
        "incident:INC-2",
        "incident:INC-3",
        "incident:INC-4",
    ]
    shown = runner.invoke(app, ["-L", str(library), "finding", "rank"])
    assert shown.exit_code == 0, shown.output
