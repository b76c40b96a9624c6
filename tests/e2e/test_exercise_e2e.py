"""The seed's MCP exfiltration tabletop, end to end through the CLI, on a fake clock.

create, start, phases, injects, decisions, three findings, end, report: the report holds
every section the first seed asks for, and its times are the timeline's times. The success
criteria are scored from evidence only: none is missed before its deadline, each met one
names the tagged event that met it and its time, and the one whose only candidate was
never tagged (a decision that merely *mentions* scope) is missed once its deadline passes.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.clock import FakeClock
from drillbook.documents.yaml_io import load_text, to_plain
from drillbook.flows.followup import carry_over_items
from drillbook.storage.engine import open_store
from tests.helpers import SEED

PROGRAM = """organisation: Acme Payments
teams:
  - id: sre
people:
  - {id: alice, team: sre, roles: [incident_commander]}
  - {id: bob, roles: [security_lead]}
  - {id: carol, roles: [engineering_owner]}
  - {id: david, roles: [legal]}
  - {id: eve, roles: [comms_lead]}
"""

FINDINGS = [
    (
        "high",
        "Took 3 minutes to name the IC only because alice volunteered.\n"
        "No on-call rotation for incident commander role.\n",
        "Establish a primary + backup IC rotation; integrate with PagerDuty.",
        "sre-team",
        "2026-06-30",
    ),
    (
        "critical",
        "Nobody knew how to take an MCP server offline without breaking agents.\n",
        "Document MCP server safe-shutdown procedure; test it in the next chaos drill.",
        "platform-team",
        "2026-05-31",
    ),
    (
        "medium",
        "Legal could not say which regulators needed notice, nor by when.\n",
        "Build a decision tree mapping breach types to notification requirements.",
        "legal",
        "2026-07-15",
    ),
]


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    (root / "scenarios").mkdir(parents=True)
    (root / "drillbook.yaml").write_text(PROGRAM, encoding="utf-8")
    shutil.copy(SEED / "scenarios" / "data-exfil-via-mcp.yaml", root / "scenarios")
    return root


@pytest.mark.slow
def test_mcp_tabletop_end_to_end(
    library: Path, runner: CliRunner, fake_clock: FakeClock, tmp_path: Path
) -> None:
    def cli(*args: str) -> str:
        result = runner.invoke(app, ["-L", str(library), *args])
        assert result.exit_code == 0, f"{args}: {result.output}"
        return result.output

    def at(minutes: float) -> None:
        fake_clock.set(start + timedelta(minutes=minutes) + paused)

    out = cli(
        "exercise",
        "create",
        "scenario-2026-q2-001",
        "--date",
        "2026-04-29",
        "--team",
        "sre",
        "--role",
        "comms=eve",
        "--role",
        "legal=david",
        "--role",
        "security_lead=bob",
        "--role",
        "engineering_owner=carol",
    )
    assert "created EX-1" in out
    assert "Incident Lead (incident_commander) has nobody" in out
    start, paused = fake_clock.now() + timedelta(minutes=5), timedelta(0)
    fake_clock.set(start)
    cli("exercise", "start", "--by", "fran")
    cli("exercise", "inject", "--by", "fran")  # T+00:00 #1
    at(3)
    cli("exercise", "assign", "incident_commander=alice", "--by", "fran")  # T+03:00
    at(4)
    cli(
        "exercise",
        "decide",
        "Alice takes IC; page the security lead",
        "--by",
        "alice",
        "--meets",
        "C1",
    )
    at(10)
    # the bug: criteria due at t+30..t+90 were MISSED at T+10
    early = {c["key"]: c for c in json.loads(cli("exercise", "show", "--json"))["criteria"]}
    assert early["C1"]["state"] == "met"
    assert early["C1"]["evidence"][0]["offset"] == "T+04:00"
    assert {early[k]["state"] for k in ("C2", "C3", "C4", "C5")} == {"open"}
    at(15)
    cli("exercise", "phase", "--by", "fran")  # containment
    cli("exercise", "inject", "--by", "fran")  # #2 T+15:00
    at(20)
    cli(
        "exercise",
        "decide",
        "Quarantine the MCP server rather than take it offline",
        "--by",
        "alice",
        "-m",
        "2",
    )  # T+20:00
    cli("exercise", "pause")
    paused = timedelta(minutes=10)
    at(20)
    cli("exercise", "resume")
    at(30)
    cli("exercise", "inject")  # #3 T+30:00
    at(32)
    cli("exercise", "observe", "Team argued about who owns the deployment pipeline")
    at(40)
    cli("exercise", "phase", "communication")
    cli("exercise", "inject", "--text", "A journalist emails asking about leaked queries")
    at(45)
    cli(
        "exercise",
        "decide",
        "Comms lead drafts the customer notice for the major customer",
        "--by",
        "eve",
        "--meets",
        "C4",
    )  # T+45:00
    at(55)
    cli(
        "exercise", "decide", "Data scope: 250GB of agent queries from 3 customers", "--by", "bob"
    )  # T+55:00
    cli("exercise", "note", "Decisions posted in #inc-mcp as they were made", "--meets", "C5")
    at(57)
    shown = json.loads(cli("exercise", "show", "-e", "1", "--json"))
    late = {c["key"]: c for c in shown["criteria"]}
    # mentioning "scope" only suggests: C3 stays open (not met) until its deadline
    assert late["C3"]["state"] == "open"
    assert late["C3"]["suggestions"][0]["text"].startswith("Data scope: 250GB")
    assert "missed" not in {c["state"] for c in late.values()}
    status = json.loads(cli("exercise", "status", "--json"))
    assert status["elapsed"] == "T+57:00"
    assert status["phase"] == "communication"
    assert status["next_inject"] == 4
    assert status["injects_due"] == [4]
    cli("exercise", "phase", "post_incident_review")
    for severity, description, fix, owner, target in FINDINGS:
        cli(
            "finding",
            "add",
            "-e",
            "1",
            "-s",
            severity,
            "-d",
            description,
            "-r",
            fix,
            "--owner",
            owner,
            "--target-date",
            target,
        )
    at(60)
    cli("exercise", "end", "--by", "fran")

    timeline = json.loads(cli("exercise", "timeline", "--json"))
    report_path = tmp_path / "report.md"
    cli("exercise", "report", "-o", str(report_path), "--counsel", "--distribution", "counsel")
    report = report_path.read_text(encoding="utf-8")

    # every section of the first seed's report
    for heading in (
        "## 1. Date and participants",
        "## 2. Scenario brief",
        "## 3. What the team did, phase by phase",
        "## 4. What the team missed",
        "## 5. Fix list",
        "## 6. Next tabletop",
        "## Appendix: full timeline",
    ):
        assert heading in report
    assert "Prepared at the direction of counsel" in report
    assert "distribution: counsel" in report
    assert "| Date of exercise | 2026-04-29 |" in report
    for person in ("alice", "bob", "carol", "david", "eve"):
        assert f"| {person} |" in report
    assert "It's Tuesday at 14:30 UTC" in report
    # times in the report are the timeline's times
    decisions = [e for e in timeline if e["kind"] == "decision"]
    assert [d["offset"] for d in decisions] == ["T+04:00", "T+20:00", "T+45:00", "T+55:00"]
    for decision in decisions:
        assert f"**{decision['offset']}** decision by" in report
        assert decision["text"] in report
    sections = report.split("### ")
    containment = next(s for s in sections if s.startswith("Containment (from T+15:00)"))
    assert "T+20:00** decision by alice (incident_commander): Quarantine" in containment
    assert "### Communication (from T+40:00)" in report
    # what the team missed: the T+30 inject nobody decided on (the ad hoc T+40 one got one)
    assert (
        "| C1 | Incident commander identified within 5 minutes | T+05:00 | met | decision by "
        "alice: Alice takes IC; page the security lead (tagged) | T+04:00 |" in report
    )
    assert (
        "| C2 | Containment decision (offline vs. quarantine) at t+30 or earlier | T+30:00 | met"
        " | decision by alice: Quarantine the MCP server rather than take it offline (tagged) |"
        " T+20:00 |" in report
    )
    assert "| C5 | Documented decisions in incident channel | end | met | note by" in report
    assert (
        "| C3 | Data scope quantified by t+60 | T+1:00:00 | **MISSED** | no evidence names this"
        " criterion |" in report
    )
    assert report.count("**MISSED**") == 1
    assert "- **T+30:00**: Engineering reports the MCP server's deployment" in report
    assert "T+40:00**: A journalist emails" not in report
    # fix list with owners and dates; next tabletop one quarter (13 weeks) on
    for fid, (_, _, fix, owner, target) in zip(("F-001", "F-002", "F-003"), FINDINGS, strict=True):
        assert f"| {fid} |" in report
        assert f"| {owner} | {target} |" in report
        assert fix in report
    assert "Next tabletop: **2026-07-29**" in report
    assert "| T+1:00:00 |" in report or "| T+60:00 |" in report
    assert json.loads(cli("exercise", "show", "--json", "1"))["status"] == "reported"

    html = tmp_path / "report.html"
    cli("exercise", "report", "1", "-f", "html", "-o", str(html))
    page = html.read_text(encoding="utf-8")
    assert "<h2>4. What the team missed</h2>" in page
    for decision in decisions:
        assert f'<span class="time">{decision["offset"]}</span> decision by' in page

    # the findings document for git, in the seed's shape
    cli("finding", "export", "1")
    exported = library / "findings" / "scenario-2026-q2-001-run-2026-04-29.yaml"
    data = to_plain(load_text(exported.read_text(encoding="utf-8")))
    assert list(data)[:5] == ["scenario", "date", "participants", "findings", "next_actions"]
    assert [f["id"] for f in data["findings"]] == ["F-001", "F-002", "F-003"]
    assert json.loads(cli("finding", "import", str(exported), "--json"))["unchanged"] == [
        "F-001",
        "F-002",
        "F-003",
    ]

    ranked = json.loads(cli("finding", "rank", "--json"))
    assert ranked[0]["id"] == "F-002"
    assert all(r["why"] for r in ranked)

    # 31 days later: one fix moved, two did not
    fake_clock.advance(timedelta(days=31))
    cli("finding", "update", "F-002", "--status", "in_progress", "--note", "runbook drafted")
    follow = json.loads(cli("followup", "--json", "--record"))
    assert {i["finding"]: i["moved"] for i in follow["items"]} == {
        "F-001": False,
        "F-002": True,
        "F-003": False,
    }
    assert follow["recorded"] == ["EX-1"]
    store = open_store(library)
    try:
        with store.session() as session:
            carried = carry_over_items(session, "sre")
    finally:
        store.close()
    assert len(carried) == 2
    assert carried[0].startswith("F-001 (high, sre-team, due 2026-06-30)")
