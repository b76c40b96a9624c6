"""Comparing two inventory versions: exactly what was added is reported."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from drillbook.flows.inventory_history import compare

names = st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True), max_size=6, unique=True)


def _inventory(agents: list[str], tools: list[str], sensitive: list[str]) -> dict[str, Any]:
    return {
        "agents": [{"name": a, "team": "t", "tools": tools[:1]} for a in agents],
        "tools": [{"name": t, "risk": "crm_write"} for t in tools],
        "teams": [{"id": s, "sensitive_data": True} for s in sensitive],
    }


@given(names, names, names, names, names, names)
def test_compare_reports_exactly_the_additions(
    agents: list[str],
    more_agents: list[str],
    tools: list[str],
    more_tools: list[str],
    teams: list[str],
    more_teams: list[str],
) -> None:
    before = _inventory(agents, tools, teams)
    after = _inventory(
        list(dict.fromkeys(agents + more_agents)),
        list(dict.fromkeys(tools + more_tools)),
        list(dict.fromkeys(teams + more_teams)),
    )
    found = compare(before, after, "c0ffee", date(2026, 5, 1), "subject")
    assert {c.name for c in found if c.kind == "new_agent"} == set(more_agents) - set(agents)
    assert {c.name for c in found if c.kind == "new_tool"} == set(more_tools) - set(tools)
    assert {c.name for c in found if c.kind == "sensitive_team"} == set(more_teams) - set(teams)
    assert compare(after, after, "c0ffee", date(2026, 5, 1), "s") == []


@given(st.one_of(st.none(), st.integers(), st.text(), st.lists(st.integers())))
def test_odd_documents_are_read_as_empty_not_errors(document: Any) -> None:
    assert compare(document, document, "c", date(2026, 1, 1), "s") == []
    assert compare(document, {"agents": [{"name": "a"}]}, "c", date(2026, 1, 1), "s")[0].name == "a"
