"""exercise plan: the facilitator's script on the clock, and each variation of the seed."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.domain.inventory.service import load_inventory
from drillbook.domain.scenario.enums import Category, Difficulty, Phase
from drillbook.domain.scenario.models import Scenario
from drillbook.library.loader import load_scenario_file
from drillbook.planning.generate import GenerateRequest, generate_scenario, scenario_text
from drillbook.planning.regulatory import Jurisdiction
from drillbook.planning.render import OutputFormat, render_script
from drillbook.planning.script import FacilitatorScript, build_script
from drillbook.planning.variations import Variations, gentlest_scenario
from tests.helpers import FILES

GOOD = FILES / "inventory" / "three-agents.yaml"


@pytest.fixture
def generated() -> Scenario:
    return generate_scenario(load_inventory(GOOD), GenerateRequest(Category.IMPROPER_TOOL_FIRE, 4))


@pytest.fixture
def seed_scenario(seed_dir: Path) -> Scenario:
    return load_scenario_file(seed_dir / "scenarios" / "data-exfil-via-mcp.yaml").scenario


def _phase_starts(script: FacilitatorScript) -> list[int]:
    return [e.minute for e in script.entries if e.kind == "phase"]


def test_sixty_minutes_puts_phases_at_0_15_30_50_and_drops_injects_on_schedule(
    generated: Scenario,
) -> None:
    script = build_script(generated)
    assert script.duration_minutes == 60
    assert _phase_starts(script) == [0, 15, 30, 50]
    assert [(round(p.start_minute), round(p.end_minute)) for p in script.phases] == [
        (0, 15),
        (15, 30),
        (30, 50),
        (50, 60),
    ]
    injects = [e for e in script.entries if e.kind == "inject"]
    assert [(e.minute, e.text) for e in injects] == [
        (round(i.minute), i.description) for i in generated.injects
    ]
    for entry in injects:
        assert entry.phase == generated.phase_at(entry.minute)
    minutes = [e.minute for e in script.entries]
    assert minutes == sorted(minutes)


def test_minute_zero_decisions_escalations_and_observer(generated: Scenario) -> None:
    script = build_script(generated)
    opening = "\n".join(script.opening)
    assert "This is a rehearsal" in opening
    assert generated.initial_state.strip() in opening
    decisions = [e for e in script.entries if e.kind == "decision"]
    assert {e.phase for e in decisions} == set(Phase)
    assert all(e.owner for e in decisions)
    assert any("must figure out" in d for e in decisions for d in e.details)
    escalations = [e for e in script.entries if e.kind == "escalation"]
    assert [e.minute for e in escalations] == [15, 30, 45]
    assert any("Log the first three actions" in item for item in script.observer_checklist)
    assert any("Timestamp every decision" in item for item in script.observer_checklist)


def test_the_seed_scenario_gets_default_decisions_and_escalations(
    seed_scenario: Scenario,
) -> None:
    script = build_script(seed_scenario)
    assert script.duration_minutes == 90
    assert _phase_starts(script) == [0, 22, 45, 75]
    assert [e.minute for e in script.entries if e.kind == "inject"] == [0, 15, 30, 45]
    questions = [e.text for e in script.entries if e.kind == "decision"]
    assert any("revoke the API key" in q for q in questions)
    assert any("notify the customer now" in q for q in questions)
    assert [e.minute for e in script.entries if e.kind == "escalation"] == [22, 45, 68]
    texts = " ".join(e.text for e in script.entries if e.kind == "escalation")
    assert "customer escalates" in texts
    assert "regulator emails" in texts
    assert "second incident" in texts


def test_distributed_adds_fifteen_minutes_and_breakout_rooms(generated: Scenario) -> None:
    plain = build_script(generated)
    assert not [e for e in plain.entries if e.kind == "breakout"]
    script = build_script(generated, Variations(distributed=True))
    assert script.duration_minutes == 75
    breakouts = [e for e in script.entries if e.kind == "breakout"]
    assert [e.phase for e in breakouts] == [Phase.CONTAINMENT, Phase.COMMUNICATION]
    assert all("Comms Lead and Technical Lead" in e.text for e in breakouts)
    assert script.phases[-1].end_minute == 75
    assert any("video" in line for line in script.opening)


def test_first_tabletop_runs_ninety_minutes(generated: Scenario) -> None:
    script = build_script(generated, Variations(first_tabletop=True))
    assert script.duration_minutes == 90
    assert _phase_starts(script) == [0, 22, 45, 75]
    assert [e.minute for e in script.entries if e.kind == "inject"] == [
        round(i.minute * 1.5) for i in generated.injects
    ]
    both = build_script(generated, Variations(first_tabletop=True, distributed=True))
    assert both.duration_minutes == 105


def test_gentlest_scenario_is_the_lowest_difficulty(generated: Scenario) -> None:
    hard = generated.model_copy(update={"id": "a-hard", "difficulty": Difficulty.HARD})
    gentle = generated.model_copy(update={"id": "z-gentle", "difficulty": Difficulty.GENTLE})
    unrated = generated.model_copy(update={"id": "m-unrated", "difficulty": None})
    found = gentlest_scenario([hard, unrated, gentle])
    assert found is not None
    assert found.id == "z-gentle"
    assert gentlest_scenario([]) is None


def test_regulated_adds_a_regulator_and_clocks_on_the_timeline(generated: Scenario) -> None:
    start = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)  # a Thursday
    script = build_script(
        generated,
        Variations(regulated=True, jurisdictions=(Jurisdiction.GDPR, Jurisdiction.SEC)),
        session_start=start,
    )
    assert script.roles.seat("regulator") is not None
    clocks = [e for e in script.entries if e.kind == "clock"]
    assert clocks[0].minute == 0
    assert clocks[1].phase == Phase.COMMUNICATION
    assert any("GDPR" in d and "72h" in d for d in clocks[0].details)
    assert any("4 business days" in d for d in clocks[0].details)
    due = {c.label: c.due for c in script.clocks}
    assert due["Notify the supervisory authority"] == datetime(2026, 12, 6, 14, 0, tzinfo=UTC)
    assert due["File Form 8-K Item 1.05"] == datetime(2026, 12, 9, 14, 0, tzinfo=UTC)
    plain = build_script(generated)
    assert plain.roles.seat("regulator") is None
    assert not plain.clocks


def test_product_scope_is_stated(generated: Scenario) -> None:
    script = build_script(
        generated, Variations(product="Billing", product_agents=("billing-agent",))
    )
    assert script.scope is not None
    assert "scoped to Billing" in script.scope
    assert "billing-agent" in script.scope
    assert any("scoped to Billing" in line for line in script.opening)
    assert build_script(generated).scope is None


def test_renderings(generated: Scenario) -> None:
    hostile = generated.model_copy(update={"initial_state": "<script>alert(1)</script> happens\n"})
    script = build_script(hostile, Variations(regulated=True))
    markdown = render_script(script, OutputFormat.MD)
    assert markdown.startswith("# Facilitator's script:")
    assert "## Observer's checklist" in markdown
    assert "| Detection | 0-15 |" in markdown
    html = render_script(script, OutputFormat.HTML)
    assert "<script>alert" not in html
    assert "&lt;script&gt;" in html
    assert "<table>" in html
    data = json.loads(render_script(script, OutputFormat.JSON))
    assert [p["start"] for p in data["phases"]] == [0, 15, 30, 50]
    assert data["notification_clocks"][0]["jurisdiction"] == "GDPR"


# -- CLI -------------------------------------------------------------------------------------


def _library(tmp_path: Path, generated: Scenario) -> Path:
    (tmp_path / "drillbook.yaml").write_text(
        "organisation: Northwind\npeople:\n  - {id: priya, roles: [incident_lead]}\n"
        "  - {id: tomas, roles: [technical_lead]}\n",
        encoding="utf-8",
    )
    shutil.copy(GOOD, tmp_path / "inventory.yaml")
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / f"{generated.id}.yaml").write_text(
        scenario_text(generated), encoding="utf-8"
    )
    return tmp_path


def test_cli_plan_with_variations(runner: CliRunner, tmp_path: Path, generated: Scenario) -> None:
    root = _library(tmp_path, generated)
    base = ["--library", str(root), "exercise", "plan", generated.id]
    done = runner.invoke(
        app,
        [
            *base,
            "--role",
            "incident_lead=priya",
            "--role",
            "technical_lead=priya",
            "--jurisdiction",
            "nis2",
            "--product",
            "Billing",
            "--distributed",
        ],
    )
    assert done.exit_code == 0, done.output
    out = done.output
    assert "75 minutes" in out
    assert "Breakout" in out
    assert "NIS2 Art. 23(4)(a)" in out
    assert "Regulator (played)" in out
    assert "scoped to Billing" in out
    assert "Agents in play: billing-agent" in out
    assert "priya holds 2 roles" in out
    first = runner.invoke(app, [*base, "--first-tabletop", "-f", "json"])
    data = json.loads(first.output)
    assert data["duration_minutes"] == 90
    assert "gentlest" in data["suggestion"]
    assert "gentle" in data["suggestion"]
    html = tmp_path / "script.html"
    written = runner.invoke(app, [*base, "-f", "html", "-o", str(html)])
    assert written.exit_code == 0
    assert html.read_text(encoding="utf-8").startswith("<!doctype")


def test_cli_plan_from_a_file_and_bad_input(runner: CliRunner, seed_dir: Path) -> None:
    path = seed_dir / "scenarios" / "data-exfil-via-mcp.yaml"
    done = runner.invoke(app, ["exercise", "plan", str(path), "--duration", "60"])
    assert done.exit_code == 0, done.output
    assert "| Communication | 30-50 |" in done.output
    missing = runner.invoke(app, ["exercise", "plan", "no-such-scenario"])
    assert missing.exit_code == 1
    assert "no scenario with id 'no-such-scenario'" in missing.output
    bad = runner.invoke(app, ["exercise", "plan", str(path), "--jurisdiction", "mars"])
    assert bad.exit_code == 1
    assert "unknown jurisdiction 'mars'" in bad.output
    bad_role = runner.invoke(app, ["exercise", "plan", str(path), "--role", "observer"])
    assert bad_role.exit_code == 1
    assert "ROLE=PERSON" in bad_role.output


def test_written_phases_that_leave_one_out_still_plan_every_variation(
    generated: Scenario,
) -> None:
    halves = [
        {"name": "detection", "start": "0m", "end": "30m"},
        {"name": "containment", "start": "30m", "end": "60m"},
    ]
    partial = Scenario.model_validate(
        {**generated.model_dump(mode="json", exclude_none=True), "phases": halves}
    )
    script = build_script(partial, Variations(distributed=True, regulated=True))
    assert [e.phase for e in script.entries if e.kind == "breakout"] == [Phase.CONTAINMENT]
    clocks = [(e.minute, e.phase) for e in script.entries if e.kind == "clock"]
    assert clocks == [(0, Phase.DETECTION), (38, Phase.CONTAINMENT)]
