"""A whole tabletop driven through `drillbook mcp` over stdio with the SDK's own client.

The server is the real command in a subprocess; the client initializes, lists the tools
and calls them in the order an admin agent runs the three passes (generate, plan, create,
start, inject, decide, note, end, draft findings, rank, report). Then the stored exercise
and the report are checked in the library's own database.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp import Client, StdioServerParameters
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.domain.exercise import service
from drillbook.domain.exercise.enums import EventKind
from drillbook.domain.finding.service import list_findings
from drillbook.storage.engine import open_store

EXPECTED_TOOLS = {
    "inventory_show",
    "scenario_list",
    "scenario_generate",
    "scenario_lint",
    "exercise_plan",
    "exercise_brief",
    "exercise_create",
    "exercise_start",
    "exercise_inject",
    "exercise_decide",
    "exercise_note",
    "exercise_observe",
    "exercise_phase",
    "exercise_end",
    "exercise_report",
    "finding_draft",
    "finding_rank",
    "followup",
    "drill_validate",
    "scorecard_list",
    "scorecard_read",
}


async def _drive(library: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DRILLBOOK_")}
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "drillbook.cli.main", "--library", str(library), "mcp", "--agent", "admin-bot"],
        env=env,
        cwd=str(library),
    )
    seen: dict[str, Any] = {}
    async with Client(params, mode="legacy", read_timeout_seconds=60) as client:
        # mode="legacy": the initialize handshake, as every MCP client of today does it.
        seen["server"] = client.server_info.name if client.server_info else None
        seen["instructions"] = client.instructions or ""
        tools = await client.list_tools()
        seen["tools"] = {t.name for t in tools.tools}

        async def call(name: str, **arguments: Any) -> Any:
            result = await client.call_tool(name, arguments)
            assert not result.is_error, f"{name}: {result.content}"
            return result.structured_content

        generated = await call("scenario_generate", category="improper_tool_fire", seed=7)
        seen["generated"] = generated
        scenario_id = generated["scenario_id"]
        seen["plan"] = await call("exercise_plan", scenario_id=scenario_id, regulated=True)
        created = await call(
            "exercise_create",
            scenario_id=scenario_id,
            team="support",
            roles={"incident_commander": "alice", "comms_lead": "eve"},
        )
        exercise = created["exercise"]
        seen["exercise"] = exercise
        await call("exercise_start", exercise_id=exercise)
        seen["inject"] = await call("exercise_inject", exercise_id=exercise)
        await call(
            "exercise_decide",
            exercise_id=exercise,
            text="Disable the refund tool and revoke its key",
            by="alice",
        )
        await call(
            "exercise_note",
            exercise_id=exercise,
            text="Nobody knew who could approve turning the agent back on",
        )
        await call("exercise_end", exercise_id=exercise)
        seen["draft"] = await call("finding_draft", exercise_id=exercise, save=True)
        seen["rank"] = await call("finding_rank")
        seen["report"] = await call("exercise_report", exercise_id=exercise)
        resource = await client.read_resource(f"drillbook://findings/{exercise}")
        seen["findings_document"] = resource.contents[0].text  # type: ignore[union-attr]
    return seen


def test_a_whole_tabletop_through_the_mcp_server(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    assert CliRunner().invoke(app, ["init", str(library)]).exit_code == 0
    seen = anyio.run(_drive, library)

    assert seen["server"] == "drillbook"
    assert "three passes" in seen["instructions"].lower()
    assert seen["tools"] >= EXPECTED_TOOLS
    assert "drill_run" not in seen["tools"]  # no detonation without --allow-drills
    generated = seen["generated"]
    assert (library / generated["path"]).is_file()
    assert [p for p in generated["problems"] if p["level"] == "error"] == []
    assert any(line.startswith("approval: ") for line in generated["tests"])
    assert any(line.startswith("credential: ") for line in generated["tests"])
    assert any(e["kind"] == "escalation" for e in seen["plan"]["timeline"])
    assert seen["plan"]["variations"]

    store = open_store(library)
    try:
        with store.session() as session:
            exercise = service.get_exercise(session, seen["exercise"])
            assert exercise.status == "reported"
            assert exercise.team == "support"
            kinds = [e.kind for e in exercise.events]
            assert kinds.count(EventKind.INJECT) == 1
            decision = next(e for e in exercise.events if e.kind == EventKind.DECISION)
            assert (decision.author, decision.role) == ("alice", "incident_commander")
            note = next(e for e in exercise.events if e.kind == EventKind.NOTE)
            assert note.author == "admin-bot"
            assert kinds[-1] == EventKind.REPORT_WRITTEN
            findings = list_findings(session, exercise_id=exercise.id)
            assert sorted(f.id for f in findings) == sorted(seen["draft"]["saved"])
            noted = [
                f for f in findings if f.description.startswith("Nobody knew who could approve")
            ]
            assert len(noted) == 1
            assert noted[0].change_type in {"policy", "configuration", "training"}
            assert noted[0].extra["draft_evidence"][0]["event_id"] == note.id
    finally:
        store.close()

    assert {r["id"] for r in seen["rank"]["result"]} == set(seen["draft"]["saved"])
    report = seen["report"]["markdown"]
    assert f"| Exercise | {seen['exercise']} |" in report
    assert "Disable the refund tool and revoke its key" in report
    assert "Nobody knew who could approve turning the agent back on" in report
    assert seen["inject"]["text"].strip()[:40] in report
    assert "Nobody knew who could approve" in seen["findings_document"]
    assert json.dumps(seen["draft"])  # plain JSON all the way through
