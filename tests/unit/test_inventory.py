"""inventory.yaml: schema, reference checks with locations, product scoping, CLI."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.domain.inventory.models import RiskClass
from drillbook.domain.inventory.service import (
    load_inventory,
    require_agent,
    scoped_to_product,
)
from drillbook.errors import LibraryError, Problem
from tests.helpers import FILES

INVENTORIES = FILES / "inventory"
GOOD = INVENTORIES / "three-agents.yaml"


def _messages(exc: LibraryError) -> list[str]:
    return [str(p) for p in exc.problems]


def test_the_example_inventory_loads() -> None:
    inventory = load_inventory(GOOD)
    assert [a.name for a in inventory.agents] == [
        "support-assistant",
        "billing-agent",
        "sales-copilot",
    ]
    assert len(inventory.tools) == 6
    assert inventory.most_used_agent().name == "support-assistant"
    assert [c.name for c in inventory.top_customers()] == ["Contoso Health"]
    assert inventory.incident_channel() == "#inc-war-room"
    assert inventory.tool("issue-refund") is not None
    assert inventory.tool("issue-refund").risk == RiskClass.PAYMENT_REFUND  # type: ignore[union-attr]


def test_on_call_matches_a_seat_under_any_of_its_names() -> None:
    inventory = load_inventory(GOOD)
    people = [
        person.model_copy(update={"on_call": roles})
        for person, roles in zip(
            inventory.people, (["Incident-Lead"], ["tech_lead"], ["comms"]), strict=False
        )
    ]
    renamed = inventory.model_copy(update={"people": people})
    assert [p.name for p in renamed.on_call("incident_commander")] == ["Priya Raman"]
    assert [p.name for p in renamed.on_call("technical_lead")] == ["Tomás Ortega"]
    assert [p.name for p in renamed.on_call("comms_lead")] == ["Dana Whitfield"]


def test_unknown_references_are_located_errors() -> None:
    path = INVENTORIES / "unknown-refs.yaml"
    with pytest.raises(LibraryError) as caught:
        load_inventory(path)
    messages = _messages(caught.value)
    assert len(messages) == 4, messages
    # agents[0].tools[1] is on line 4, column 24 ("crm-rite")
    assert any(
        m.startswith(f"{path}:4:24:") and "unknown tool 'crm-rite'" in m and "known: crm-write" in m
        for m in messages
    ), messages
    assert any(":6:" in m and "unknown service 'crm-mcp'" in m for m in messages)
    assert any(":10:" in m and "unknown team 'platfrom'" in m for m in messages)
    assert any(":12:" in m and "unknown agent 'support-asistant'" in m for m in messages)


def test_schema_errors_are_all_reported_with_lines() -> None:
    path = INVENTORIES / "bad-schema.yaml"
    with pytest.raises(LibraryError) as caught:
        load_inventory(path)
    text = "\n".join(_messages(caught.value))
    assert re.search(rf"{re.escape(str(path))}:4:\d+: .*calls_per_day", text), text
    assert re.search(r":5:\d+: unknown key 'aproval_gate'", text), text
    assert re.search(r":7:\d+: .*risk", text), text
    assert re.search(r":8:\d+: .*customer_profile", text), text


def test_an_inventory_needs_an_agent() -> None:
    with pytest.raises(LibraryError) as caught:
        load_inventory(INVENTORIES / "no-agents.yaml")
    assert ":2:" in str(caught.value)
    assert "agents" in str(caught.value)


def test_missing_file_is_a_located_error(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match=r"inventory\.yaml not found"):
        load_inventory(tmp_path / "inventory.yaml")


def test_unknown_agent_name_is_a_readable_error() -> None:
    inventory = load_inventory(GOOD)
    with pytest.raises(LibraryError) as caught:
        require_agent(inventory, "supprt-assistant", GOOD)
    message = str(caught.value)
    assert message.startswith(f"{GOOD}:4:1:")
    assert "unknown agent 'supprt-assistant'" in message
    assert "support-assistant" in message.split("known:")[1]


def test_product_scope_keeps_that_products_agents_and_tools() -> None:
    inventory = load_inventory(GOOD)
    billing = scoped_to_product(inventory, "Billing", GOOD)
    assert [a.name for a in billing.agents] == ["billing-agent"]
    assert {t.name for t in billing.tools} == {"issue-refund", "invoice-read"}
    assert [c.name for c in billing.customers] == ["Fabrikam Retail"]
    with pytest.raises(LibraryError, match="unknown product 'Payroll'"):
        scoped_to_product(inventory, "Payroll", GOOD)


# -- CLI -------------------------------------------------------------------------------------


def test_inventory_check_cli(runner: CliRunner, tmp_path: Path) -> None:
    # However deep the checkout (CI clones into folders of any length), the verdict is one
    # line: messages are never wrapped at the console's width.
    deep = tmp_path / ("a-rather-long-folder-name-" * 4) / "inventory.yaml"
    deep.parent.mkdir(parents=True)
    deep.write_bytes(GOOD.read_bytes())
    ok = runner.invoke(app, ["inventory", "check", str(deep)])
    assert ok.exit_code == 0, ok.output
    assert f"{deep}: ok (3 agents, 6 tools, 3 people)\n" in ok.output
    bad = runner.invoke(app, ["inventory", "check", str(INVENTORIES / "unknown-refs.yaml")])
    assert bad.exit_code == 1
    assert "unknown-refs.yaml:4:24:" in bad.output
    assert "Traceback" not in bad.output


def test_inventory_show_cli_reads_the_library(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "drillbook.yaml").write_text("organisation: Northwind\n", encoding="utf-8")
    shutil.copy(GOOD, tmp_path / "inventory.yaml")
    shown = runner.invoke(app, ["--library", str(tmp_path), "inventory", "show"])
    assert shown.exit_code == 0, shown.output
    assert "Agents" in shown.output
    assert "Contoso Health" in shown.output
    as_json = runner.invoke(app, ["--library", str(tmp_path), "inventory", "show", "--json"])
    assert '"billing-agent"' in as_json.output


# -- fuzz ----------------------------------------------------------------------------------


def _problems_of(path: Path) -> list[Problem] | None:
    """The problems of loading ``path``, None when it loads; any other exception escapes."""
    try:
        load_inventory(path)
    except LibraryError as exc:
        return list(exc.problems)
    return None


_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=8))
_yamlish = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(
                [
                    "agents",
                    "tools",
                    "name",
                    "risk",
                    "team",
                    "people",
                    "x",
                    "customer_profile",
                    "on_call",
                    "products",
                ]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.one_of(st.text(max_size=200), _yamlish.map(repr)))
def test_the_parser_only_ever_raises_library_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "inventory.yaml"
    path.write_text(text, encoding="utf-8")
    problems = _problems_of(path)
    assert problems is None or problems
    assert all(p.location.path == str(path) for p in problems or [])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    agents=st.lists(
        st.fixed_dictionaries(
            {
                "name": st.text(min_size=1, max_size=10),
                "tools": st.lists(
                    st.sampled_from(["crm-write", "send-email", "ghost"]), max_size=3
                ),
                "calls_per_day": st.integers(-2, 50),
            }
        ),
        max_size=3,
    )
)
def test_structured_inventories_fail_only_with_library_errors(
    tmp_path: Path, agents: list[dict[str, object]]
) -> None:
    from drillbook.documents.yaml_io import dump_text

    path = tmp_path / "inventory.yaml"
    document = {
        "agents": agents,
        "tools": [
            {"name": "crm-write", "risk": "crm_write"},
            {"name": "send-email", "risk": "outbound_email"},
        ],
    }
    path.write_text(dump_text(document), encoding="utf-8")
    problems = _problems_of(path)
    if problems is not None:
        assert all(p.location.line >= 1 for p in problems), problems
    else:
        inventory = load_inventory(path)
        assert all(t in {"crm-write", "send-email"} for a in inventory.agents for t in a.tools)
