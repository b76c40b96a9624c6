"""exercise brief: the pre-read sent 24 hours before, with none of the injects."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.domain.inventory.service import load_inventory
from drillbook.domain.program.models import Program
from drillbook.domain.scenario.enums import Category
from drillbook.domain.scenario.models import Scenario
from drillbook.library.loader import load_scenario_file
from drillbook.planning.brief import build_brief
from drillbook.planning.generate import GenerateRequest, generate_scenario
from drillbook.planning.render import OutputFormat, render_brief
from drillbook.planning.roles import assign_roles
from drillbook.planning.variations import Variations
from tests.helpers import FILES

GOOD = FILES / "inventory" / "three-agents.yaml"
START = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)


def _secrets(scenario: Scenario) -> list[str]:
    """Everything that must stay a surprise: injects, escalations, decision options."""
    out = [i.description.strip() for i in scenario.injects]
    out += [e.description.strip() for e in scenario.escalations]
    return out


def _scenarios(seed_dir: Path) -> list[Scenario]:
    inventory = load_inventory(GOOD)
    generated = [generate_scenario(inventory, GenerateRequest(c, seed=9)) for c in Category]
    seed = load_scenario_file(seed_dir / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    return [seed, *generated]


def test_the_brief_contains_no_inject_text(seed_dir: Path) -> None:
    for scenario in _scenarios(seed_dir):
        roles = assign_roles(scenario, {"incident_commander": "alice"}, None)
        made = build_brief(scenario, roles, session_start=START)
        for fmt in OutputFormat:
            text = render_brief(made, fmt)
            for secret in _secrets(scenario):
                assert secret not in text, (scenario.id, fmt, secret)
                for line in secret.splitlines():
                    if len(line.strip()) > 25:
                        assert line.strip() not in text, (scenario.id, fmt, line)


def test_roles_statement_timebox_and_what_to_bring(seed_dir: Path) -> None:
    scenario = load_scenario_file(seed_dir / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    roles = assign_roles(scenario, {"incident_commander": "alice", "observer": "bob"}, None)
    made = build_brief(scenario, roles, session_start=START)
    text = render_brief(made, OutputFormat.MD)
    assert "Anomalous bytes-out from payments-mcp-server pod" in text  # the statement
    assert "**Time-box:** 90 minutes" in text
    assert "| Incident Lead | alice |" in text
    assert "| Observer | bob |" in text
    assert "## What to bring" in text
    assert "audit logs" in text
    assert "Send this brief by:** Monday 30 November 2026, 14:00 UTC" in text
    assert made.report_due == datetime(2026, 12, 3, 15, 30, tzinfo=UTC)
    assert made.followup_on == datetime(2026, 12, 31, 15, 30, tzinfo=UTC)
    # the seat warnings are the facilitator's (stderr), never the participants' brief
    assert any("Comms Lead (comms_lead) has nobody assigned" in w for w in made.warnings)
    for fmt in OutputFormat:
        assert "nobody assigned" not in render_brief(made, fmt)
        assert "--role" not in render_brief(made, fmt)


def test_weekend_deadlines_say_so(seed_dir: Path) -> None:
    scenario = load_scenario_file(seed_dir / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    thursday = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)  # +48h report due on a Saturday
    made = build_brief(scenario, assign_roles(scenario, {}, None), session_start=thursday)
    text = render_brief(made, OutputFormat.MD)
    assert "Report due: Saturday 05 December 2026, 15:30 UTC (a Saturday)." in text


def test_carry_over_is_the_first_agenda_item(seed_dir: Path) -> None:
    scenario = _scenarios(seed_dir)[1]
    made = build_brief(
        scenario,
        assign_roles(scenario, {}, None),
        carry_over=["Wire the approval gate on billing-agent", "  "],
    )
    assert (
        made.agenda[0] == "Carried over from the last follow-up: Wire the approval gate on "
        "billing-agent"
    )
    assert made.agenda[1].startswith("Minute 0-15: Detection")
    assert made.carry_over == ["Wire the approval gate on billing-agent"]
    text = render_brief(made, OutputFormat.MD)
    assert text.index("Carried over") < text.index("Minute 0-15")


def test_cadence_and_variations_shape_the_brief(seed_dir: Path) -> None:
    scenario = _scenarios(seed_dir)[1]
    program = Program.model_validate(
        {"organisation": "N", "cadence": {"report_within": "72h", "followup_after": "14d"}}
    )
    made = build_brief(
        scenario,
        assign_roles(scenario, {}, program),
        variations=Variations(distributed=True, regulated=True, product="Billing"),
        session_start=START,
        program=program,
    )
    assert made.duration_minutes == 75
    assert made.report_due == datetime(2026, 12, 4, 15, 15, tzinfo=UTC)
    assert made.followup_on == datetime(2026, 12, 15, 15, 15, tzinfo=UTC)
    assert any("GDPR" in item for item in made.bring)
    assert any("shared document" in item for item in made.bring)
    assert made.notes[0].startswith("This session is scoped to Billing")
    assert made.roles.seat("regulator") is None  # roles come from the caller
    data = json.loads(render_brief(made, OutputFormat.JSON))
    assert data["session_start"] == "2026-12-01T14:00:00+00:00"


def test_cli_brief(runner: CliRunner, tmp_path: Path, seed_dir: Path) -> None:
    path = seed_dir / "scenarios" / "data-exfil-via-mcp.yaml"
    out = tmp_path / "brief.html"
    done = runner.invoke(
        app,
        [
            "exercise",
            "brief",
            str(path),
            "--role",
            "ic=alice",
            "--date",
            "2026-12-01T14:00Z",
            "--carry-over",
            "Rotate keys",
            "-f",
            "html",
            "-o",
            str(out),
            "--ics",
            str(tmp_path / "b.ics"),
        ],
    )
    assert done.exit_code == 0, done.output
    html = out.read_text(encoding="utf-8")
    assert "Carried over from the last follow-up: Rotate keys" in html
    assert "250GB" not in html  # inject text at 15m
    assert (tmp_path / "b.ics").read_bytes().startswith(b"BEGIN:VCALENDAR")
    no_date = runner.invoke(app, ["exercise", "brief", str(path), "--ics", str(tmp_path / "x.ics")])
    assert no_date.exit_code == 1
    assert "--date" in no_date.output
    bad_date = runner.invoke(app, ["exercise", "brief", str(path), "--date", "next tuesday"])
    assert bad_date.exit_code == 2  # a bad flag value is a usage error
    assert "ISO date" in bad_date.output


@pytest.mark.parametrize("fmt", ["md", "json", "html"])
def test_cli_brief_formats_to_stdout(runner: CliRunner, seed_dir: Path, fmt: str) -> None:
    path = seed_dir / "scenarios" / "data-exfil-via-mcp.yaml"
    done = runner.invoke(app, ["exercise", "brief", str(path), "-f", fmt])
    assert done.exit_code == 0, done.output
    assert "Data exfiltration via compromised MCP server" in done.output
