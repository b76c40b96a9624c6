"""The MCP tools in-process: hostile input gets a clean tool error (never a traceback, never
a file outside the library), drills need --allow-drills, resources and prompts answer."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.mcp.context import McpContext
from drillbook.mcp.server import build_server
from tests.helpers import SEED, require_binary

Session = Callable[[Client], Awaitable[Any]]


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    assert CliRunner().invoke(app, ["init", str(root)]).exit_code == 0
    return root


def _with_client(library: Path, body: Session, *, allow_drills: bool = False) -> Any:
    context = McpContext(root=library, agent="tester", allow_drills=allow_drills)

    async def run() -> Any:
        async with Client(build_server(context)) as client:
            return await body(client)

    try:
        return anyio.run(run)
    finally:
        context.close()


async def _error(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} {arguments} did not fail: {result.structured_content}"
    text = " ".join(getattr(c, "text", "") for c in result.content)
    assert "Traceback" not in text
    assert text != f"Error executing tool {tool}", "a crash, not a clean tool error"
    return text


HOSTILE_IDS = ["../../etc/passwd", "1; DROP TABLE exercises", "EX-1\x00", "", "9" * 40]
HOSTILE_NAMES = ["../drillbook", "/etc/passwd", "a/../../b", ".hidden", "x" * 500, "drills\\..\\x"]


def test_hostile_input_gets_clean_tool_errors(library: Path) -> None:
    async def body(client: Client) -> list[str]:
        messages = []
        for bad in HOSTILE_IDS:
            messages.append(await _error(client, "exercise_decide", exercise_id=bad, text="go"))
            messages.append(await _error(client, "exercise_status", exercise_id=bad))
        for bad in HOSTILE_NAMES:
            messages.append(await _error(client, "drill_validate", plan=bad))
            messages.append(await _error(client, "scorecard_read", name=bad))
            messages.append(await _error(client, "scenario_show", scenario_id=bad))
            messages.append(await _error(client, "exercise_plan", scenario_id=bad))
        created = await client.call_tool(
            "exercise_create", {"scenario_id": "mcp-server-data-exfiltration"}
        )
        exercise = created.structured_content["exercise"]  # type: ignore[index]
        messages.append(
            await _error(client, "exercise_note", exercise_id=exercise, text="x" * 1_000_000)
        )
        messages.append(await _error(client, "exercise_note", exercise_id=exercise, text=""))
        messages.append(
            await _error(
                client, "exercise_create", scenario_id="mcp-server-data-exfiltration", team="a b"
            )
        )
        messages.append(
            await _error(
                client,
                "exercise_create",
                scenario_id="mcp-server-data-exfiltration",
                roles={f"seat{i}": "x" for i in range(50)},
            )
        )
        return messages

    messages = _with_client(library, body)
    assert any("String should match pattern" in m for m in messages)
    assert any("at most 4000 characters" in m for m in messages)
    assert not any("root:" in m for m in messages)  # /etc/passwd was never read


def test_domain_errors_read_like_the_cli(library: Path) -> None:
    async def body(client: Client) -> list[str]:
        created = await client.call_tool(
            "exercise_create", {"scenario_id": "mcp-server-data-exfiltration"}
        )
        exercise = created.structured_content["exercise"]  # type: ignore[index]
        return [
            await _error(client, "exercise_status", exercise_id="EX-999"),
            await _error(client, "exercise_decide", exercise_id=exercise, text="too early"),
            await _error(client, "exercise_end", exercise_id=exercise),
            await _error(client, "scenario_show", scenario_id="no-such-scenario"),
            await _error(client, "drill_validate", plan="no-such-plan"),
        ]

    missing, early, end, scenario, plan = _with_client(library, body)
    assert "no exercise EX-999" in missing
    assert "it must be running to log a decision" in early
    assert "cannot become in_review" in end
    assert "no scenario with id 'no-such-scenario'" in scenario
    assert "no 'no-such-plan' in drills/" in plan


def test_a_symlink_cannot_lead_out_of_the_library(library: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("name: outside\n", encoding="utf-8")
    (library / "drills" / "evil.yaml").symlink_to(secret)
    results = library / "drill-results"
    results.mkdir()
    (results / "evil.yaml").symlink_to(secret)

    async def body(client: Client) -> list[str]:
        return [
            await _error(client, "drill_validate", plan="evil"),
            await _error(client, "scorecard_read", name="evil"),
        ]

    for message in _with_client(library, body):
        assert "no 'evil' in" in message


def test_drill_detonation_needs_allow_drills(library: Path) -> None:
    async def names(client: Client) -> set[str]:
        return {t.name for t in (await client.list_tools()).tools}

    assert "drill_run" not in _with_client(library, names)
    assert "drill_run" in _with_client(library, names, allow_drills=True)


def test_generate_lints_and_names_the_controls(library: Path) -> None:
    async def body(client: Client) -> tuple[Any, Any, str]:
        draft = await client.call_tool(
            "scenario_generate", {"category": "data_exfiltration", "save": False}
        )
        saved = await client.call_tool("scenario_generate", {"category": "data_exfiltration"})
        again = await _error(client, "scenario_generate", category="data_exfiltration")
        return draft.structured_content, saved.structured_content, again

    draft, saved, again = _with_client(library, body)
    assert draft["path"] is None
    assert saved["path"] == f"scenarios/{saved['scenario_id']}.yaml"
    assert (library / saved["path"]).is_file()
    assert draft["text"] == saved["text"]
    assert saved["problems"] == []
    assert any(t.startswith("allow-list: ") for t in saved["tests"])
    assert "already exists; pass overwrite=true" in again


def test_resources_and_prompts(library: Path) -> None:
    async def body(client: Client) -> dict[str, Any]:
        created = await client.call_tool(
            "exercise_create", {"scenario_id": "mcp-server-data-exfiltration"}
        )
        exercise = created.structured_content["exercise"]  # type: ignore[index]
        scenario = await client.read_resource("drillbook://scenarios/mcp-server-data-exfiltration")
        report = await client.read_resource(f"drillbook://reports/{exercise}")
        errors = []
        for uri in ("drillbook://scenarios/..%2F..%2Fetc", "drillbook://reports/EX-424242"):
            with pytest.raises(MCPError) as raised:
                await client.read_resource(uri)
            errors.append(str(raised.value))
        prompts = await client.list_prompts()
        fixlist = await client.get_prompt("fixlist_pass", {"exercise_id": exercise})
        return {
            "scenario": scenario.contents[0].text,  # type: ignore[union-attr]
            "report": report.contents[0].text,  # type: ignore[union-attr]
            "errors": errors,
            "prompts": {p.name for p in prompts.prompts},
            "fixlist": fixlist.messages[0].content.text,  # type: ignore[union-attr]
        }

    seen = _with_client(library, body)
    assert seen["scenario"].startswith("id: mcp-server-data-exfiltration")
    assert "# Tabletop exercise report" in seen["report"]
    assert "no exercise EX-424242" in seen["errors"][1]
    assert seen["prompts"] == {"scenario_pass", "plan_pass", "fixlist_pass"}
    assert "finding_draft" in seen["fixlist"]


# The sandbox contains what a technique does, so only what it declares can refuse it: a
# technique that says it needs the network, under a profile that allows none.
WIPE = """\
name: wipe
target: {kind: local}
safety:
  network_allowed: false
  blast_radius: nothing
  abort_conditions: ["drill duration exceeds 1 minutes"]
techniques:
  - name: T1048 - Exfiltration over an alternative protocol
    network: true
    test: |
      curl -fsS http://127.0.0.1:9/ -d @/etc/hostname
"""


@pytest.mark.slow
def test_drills_run_under_the_safety_profile_with_allow_drills(library: Path) -> None:
    require_binary("bwrap")
    (library / "drills" / "wipe.yaml").write_text(WIPE, encoding="utf-8")

    async def body(client: Client) -> dict[str, Any]:
        checked = await client.call_tool("drill_validate", {"plan": "wipe"})
        ran = await client.call_tool("drill_run", {"plan": "host-discovery"})
        refused = await client.call_tool("drill_run", {"plan": "wipe"})
        return {
            "checked": checked.structured_content,
            "ran": ran.structured_content,
            "refused": refused.structured_content,
        }

    seen = _with_client(library, body, allow_drills=True)
    assert seen["checked"]["result"][0]["decision"] == "refused"
    assert "network" in seen["checked"]["result"][0]["reason"]
    assert seen["ran"]["status"] == "completed"
    assert [t["status"] for t in seen["ran"]["techniques"]] == ["succeeded", "succeeded"]
    assert [t["status"] for t in seen["refused"]["techniques"]] == ["refused"]


def test_the_command_says_how_to_get_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "drillbook.mcp.server", None)
    done = CliRunner().invoke(app, ["mcp"])
    assert done.exit_code != 0
    assert "pip install 'drillbook[mcp]'" in done.output
    assert "Traceback" not in done.output


def test_every_read_and_lifecycle_tool_answers(library: Path) -> None:
    results = library / "drill-results"
    results.mkdir()
    shutil.copy(SEED / "drill-results" / "2026-04-29-purple-team.yaml", results)

    async def body(client: Client) -> dict[str, Any]:
        async def ok(tool: str, **arguments: Any) -> Any:
            result = await client.call_tool(tool, arguments)
            assert not result.is_error, f"{tool}: {result.content}"
            return result.structured_content

        seen: dict[str, Any] = {
            "inventory": await ok("inventory_show"),
            "agents": await ok("scenario_list", category="improper_tool_fire"),
            "lint": await ok("scenario_lint", scenario_id="mcp-server-data-exfiltration"),
            "scorecards": await ok("scorecard_list"),
            "scorecard": await ok("scorecard_read", name="2026-04-29-purple-team"),
        }
        created = await ok(
            "exercise_create",
            scenario_id="mcp-server-data-exfiltration",
            roles={"incident_commander": "alice", "incident_lead": "bob"},
        )
        exercise = created["exercise"]
        seen["created"] = created
        seen["brief"] = await ok("exercise_brief", exercise_id=exercise)
        await ok("exercise_start", exercise_id=exercise)
        await ok("exercise_pause", exercise_id=exercise)
        seen["paused"] = await ok("exercise_status", exercise_id=exercise)
        await ok("exercise_resume", exercise_id=exercise)
        seen["phase"] = await ok("exercise_phase", exercise_id=exercise, phase="communication")
        seen["adhoc"] = await ok("exercise_inject", exercise_id=exercise, text="The CEO calls.")
        await ok("exercise_end", exercise_id=exercise)
        await ok("finding_draft", exercise_id=exercise, save=True)
        await ok("exercise_report", exercise_id=exercise)
        seen["followup"] = await ok("followup", days=0, record=True)
        seen["timeline"] = await ok("exercise_timeline", exercise_id=exercise)
        return seen

    seen = _with_client(library, body)
    assert seen["inventory"]["agents"]
    assert seen["agents"]["result"]
    assert {s["category"] for s in seen["agents"]["result"]} == {"improper_tool_fire"}
    assert "problems" in seen["lint"]
    assert seen["scorecards"]["result"] == ["2026-04-29-purple-team"]
    assert seen["scorecard"]["document"]
    assert seen["created"]["warnings"]  # one person per seat: two names for one seat warn
    assert "## " in seen["brief"]["markdown"]
    assert seen["paused"]["status"] == "paused"
    assert seen["phase"]["phase"] == "communication"
    assert seen["adhoc"]["text"] == "The CEO calls."
    assert seen["followup"]["items"]
    assert seen["followup"]["recorded"]
    kinds = [e["kind"] for e in seen["timeline"]["result"]]
    assert "report_written" in kinds
    assert all(e["author"] in {"tester", None} for e in seen["timeline"]["result"])


def test_a_team_scoped_server_refuses_another_teams_exercise(
    library: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def as_admin(client: Client) -> str:
        created = await client.call_tool(
            "exercise_create", {"scenario_id": "mcp-server-data-exfiltration", "team": "sales"}
        )
        return str(created.structured_content["exercise"])  # type: ignore[index]

    theirs = _with_client(library, as_admin)
    context = McpContext(root=library, agent="support-bot", team="support")

    async def as_support(client: Client) -> dict[str, Any]:
        own = await client.call_tool(
            "exercise_create", {"scenario_id": "mcp-server-data-exfiltration"}
        )
        seen: dict[str, Any] = {"own": own.structured_content}
        seen["status"] = await _error(client, "exercise_status", exercise_id=theirs)
        seen["decide"] = await _error(client, "exercise_decide", exercise_id=theirs, text="x")
        seen["rank"] = await _error(client, "finding_rank", team="sales")
        seen["create"] = await _error(
            client,
            "exercise_create",
            scenario_id="mcp-server-data-exfiltration",
            team="sales",
        )
        with pytest.raises(MCPError) as raised:
            await client.read_resource(f"drillbook://reports/{theirs}")
        seen["report"] = str(raised.value)
        return seen

    async def run() -> dict[str, Any]:
        async with Client(build_server(context)) as client:
            return await as_support(client)

    with caplog.at_level("WARNING", logger="drillbook.mcp.audit"):
        try:
            seen = anyio.run(run)
        finally:
            context.close()
    assert seen["own"]["team"] == "support"
    assert f"no exercise {theirs} for team support" in seen["status"]
    assert f"no exercise {theirs} for team support" in seen["decide"]
    assert "scoped to team support, not sales" in seen["rank"]
    assert "scoped to team support, not sales" in seen["create"]
    assert f"no exercise {theirs} for team support" in seen["report"]
    refusals = [r.getMessage() for r in caplog.records if r.name == "drillbook.mcp.audit"]
    assert len(refusals) == 5
    assert all(m.startswith("refused: agent support-bot (team support)") for m in refusals)
    # ... and in the store's append-only audit log, beside every other call
    from drillbook.domain.account.service import audit_entries
    from drillbook.storage.engine import open_store

    store = open_store(library)
    try:
        with store.session() as session:
            lines = [(e.actor, e.action, e.detail) for e in audit_entries(session)]
    finally:
        store.close()
    support = [d for actor, action, d in lines if actor == "support-bot (stdio)"]
    refused = [d for d in support if d["outcome"] == "refused"]
    assert len(refused) == 5
    assert {d["tool"] for d in refused if "tool" in d} == {
        "exercise_status",
        "exercise_decide",
        "finding_rank",
        "exercise_create",
    }
    assert all(d["transport"] == "stdio" and d["team"] == "support" for d in refused)
    assert any(d["outcome"] == "ok" and d["tool"] == "exercise_create" for d in support)
    assert ("tester (stdio)", "mcp.tool") in {(a, act) for a, act, _ in lines}


def test_every_tool_has_a_role_over_http(library: Path) -> None:
    """A new tool without a line in TOOL_ROLES would be admin-only over HTTP: say so."""
    from drillbook.mcp.context import TOOL_ROLES

    async def names(client: Client) -> set[str]:
        return {t.name for t in (await client.list_tools()).tools}

    listed = _with_client(library, names, allow_drills=True)
    assert listed == set(TOOL_ROLES)


def test_followup_lists_unmoved_fixes_first_within_the_limit(
    library: Path, fake_clock: Any
) -> None:
    """A program's follow-up covers thousands of fixes: the tool lists at most ``limit``,
    the ones that did not move first, and counts them all."""
    from datetime import timedelta

    from drillbook.config import database_url
    from drillbook.domain.finding.service import get_finding, set_status
    from drillbook.storage.engine import Store
    from tests.unit.test_followup import _reported_exercise

    store = Store(database_url(library))
    try:
        for _ in range(3):
            _reported_exercise(store, "sre")  # two fixes each: F-001 .. F-006
        fake_clock.advance(timedelta(days=1))
        with store.session() as session:
            for moved in ("F-001", "F-002", "F-004"):
                set_status(session, get_finding(session, moved), "in_progress")
        fake_clock.advance(timedelta(days=40))
    finally:
        store.close()

    async def body(client: Client) -> dict[str, Any]:
        short = await client.call_tool("followup", {"days": 30, "limit": 2})
        assert not short.is_error, short.content
        every = await client.call_tool("followup", {"days": 30})
        refused = await _error(client, "followup", days=30, limit=0)
        return {"short": short.structured_content, "every": every.structured_content, "no": refused}

    seen = _with_client(library, body)
    short, every = seen["short"], seen["every"]
    assert (short["total"], short["unmoved"]) == (6, 3)
    assert [(i["finding"], i["moved"]) for i in short["items"]] == [
        ("F-003", False),
        ("F-005", False),
    ]
    assert [i["finding"] for i in every["items"]] == [
        "F-003",
        "F-005",
        "F-006",
        "F-001",
        "F-002",
        "F-004",
    ]
    assert "limit" in seen["no"]
