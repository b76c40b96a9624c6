"""scenario generate: every incident type from an inventory of three agents and six tools."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.domain.inventory.models import CustomerProfile, Inventory
from drillbook.domain.inventory.service import load_inventory
from drillbook.domain.scenario.enums import PHASE_ORDER, Category
from drillbook.domain.scenario.models import Scenario
from drillbook.errors import ConfigError, NotFoundError, Problem
from drillbook.library.loader import load_scenario_file
from drillbook.planning.generate import GenerateRequest, generate_scenario, scenario_text
from drillbook.planning.templates import PLACEHOLDERS, template_for
from tests.helpers import FILES

GOOD = FILES / "inventory" / "three-agents.yaml"
AGENTS = ("support-assistant", "billing-agent", "sales-copilot")
TOOLS = ("crm-write", "send-email", "kb-search", "issue-refund", "invoice-read", "deploy-preview")


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return load_inventory(GOOD)


def lint_file(path: Path) -> list[Problem]:
    """The library linter's scenario rules on a written file (errors and warnings)."""
    from drillbook.flows.lint_rules import ScenarioContext, check_scenario

    loaded = load_scenario_file(path)
    return check_scenario(ScenarioContext(loaded, date(2026, 11, 21), timedelta(days=91)))


@pytest.mark.parametrize("category", list(Category))
def test_every_category_generates_a_valid_lint_clean_tailored_scenario(
    category: Category, inventory: Inventory, tmp_path: Path
) -> None:
    scenario = generate_scenario(inventory, GenerateRequest(category, seed=11))
    text = scenario_text(scenario)
    path = tmp_path / f"{scenario.id}.yaml"
    path.write_text(text, encoding="utf-8")
    assert load_scenario_file(path).scenario == scenario
    assert lint_file(path) == []
    for name in (*AGENTS, *TOOLS):
        assert name in text, f"{category}: {name} is not named"
    assert {d.phase for d in scenario.decision_points} == set(PHASE_ORDER)
    assert all(d.owner_role in scenario.roles for d in scenario.decision_points)
    assert all(d.must_figure_out for d in scenario.decision_points)
    assert scenario.category == category
    assert "{" not in text, "an unfilled placeholder leaked into the scenario"


def test_the_timeline_starts_at_zero_and_moves_every_10_to_15_minutes(
    inventory: Inventory,
) -> None:
    for seed in range(20):
        scenario = generate_scenario(
            inventory, GenerateRequest(Category.PROMPT_INJECTION, seed=seed)
        )
        minutes = [i.minute for i in scenario.injects]
        assert minutes[0] == 0
        assert all(10 <= b - a <= 15 for a, b in pairwise(minutes)), minutes
        assert minutes[-1] <= 55


def test_the_uncomfortable_details_are_real_names(inventory: Inventory) -> None:
    scenario = generate_scenario(inventory, GenerateRequest(Category.IMPROPER_TOOL_FIRE, 2))
    text = scenario_text(scenario)
    assert "Contoso Health" in text  # the top customer, by name
    assert "Priya Raman" in scenario.injects[0].description  # the real on-call engineer
    assert "#inc-war-room" in scenario.injects[0].description  # the real channel
    assert "support-assistant (most-used agent)" in (scenario.summary or "")
    tool = scenario.title.split(" fired ")[1].split(" ")[0]
    assert tool in {"crm-write", "send-email", "issue-refund", "deploy-preview"}


def test_same_seed_same_bytes_other_seed_other_text(inventory: Inventory) -> None:
    request = GenerateRequest(Category.WRONG_TEAM_DATA_EXPOSURE, seed=42)
    first = scenario_text(generate_scenario(inventory, request))
    again = scenario_text(generate_scenario(load_inventory(GOOD), request))
    assert first == again
    others = {
        scenario_text(
            generate_scenario(inventory, GenerateRequest(Category.WRONG_TEAM_DATA_EXPOSURE, seed=s))
        )
        for s in range(6)
    }
    assert len(others) > 1


def test_success_criteria_are_measurable(inventory: Inventory) -> None:
    scenario = generate_scenario(
        inventory,
        GenerateRequest(
            Category.DATA_EXFILTRATION, seed=1, customer_profile=CustomerProfile.REGULATED
        ),
    )
    for criterion in scenario.criteria:
        assert criterion.by is not None, criterion.text
        assert criterion.suggested is not None, criterion.text
    assert "legal" in scenario.roles
    assert any("regulator" in e.description.lower() for e in scenario.escalations)


def test_an_agent_can_be_chosen_and_durations_scale(inventory: Inventory) -> None:
    scenario = generate_scenario(
        inventory,
        GenerateRequest(Category.IMPROPER_TOOL_FIRE, agent="billing-agent", duration_minutes=90),
    )
    assert "billing-agent" in scenario.title
    assert "issue-refund" in scenario.title  # its only tool that acts on the world
    assert [round(w.start_minute) for w in scenario.phase_windows()] == [0, 22, 45, 75]
    with pytest.raises(NotFoundError, match="no agent 'nobody'"):
        generate_scenario(inventory, GenerateRequest(Category.OTHER, agent="nobody"))


def test_every_template_uses_only_known_placeholders() -> None:
    import string

    for category in Category:
        template = template_for(category)
        texts = [
            template.title,
            template.situation,
            *template.signals,
            *template.developments,
            template.detection.question,
            template.containment.question,
            *template.detection.figure_out,
            *template.containment.figure_out,
            template.data_at_risk,
        ]
        for text in texts:
            fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            assert fields <= set(PLACEHOLDERS), (category, fields - set(PLACEHOLDERS))


# -- CLI -------------------------------------------------------------------------------------


def _library(tmp_path: Path) -> Path:
    (tmp_path / "drillbook.yaml").write_text("organisation: Northwind\n", encoding="utf-8")
    (tmp_path / "inventory.yaml").write_text(GOOD.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def test_cli_writes_into_the_library_and_refuses_to_overwrite(
    runner: CliRunner, tmp_path: Path
) -> None:
    root = _library(tmp_path)
    args = [
        "--library",
        str(root),
        "scenario",
        "generate",
        "--type",
        "prompt_injection",
        "--seed",
        "5",
    ]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    written = sorted((root / "scenarios").glob("*.yaml"))
    assert len(written) == 1
    assert written[0].name == "prompt-injection-sales-copilot-s5.yaml"  # seed 5 picks it
    first = written[0].read_bytes()
    again = runner.invoke(app, args)
    assert again.exit_code == 1
    assert "already exists" in again.output
    forced = runner.invoke(app, [*args, "--force"])
    assert forced.exit_code == 0
    assert written[0].read_bytes() == first
    shown = runner.invoke(
        app, ["--library", str(root), "scenario", "show", "prompt-injection-sales-copilot-s5"]
    )
    assert shown.exit_code == 0, shown.output


def test_cli_output_file_and_unknown_agent(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "x.yaml"
    done = runner.invoke(
        app,
        [
            "scenario",
            "generate",
            "--inventory",
            str(GOOD),
            "--type",
            "ransomware",
            "-o",
            str(out),
            "--agent",
            "sales-copilot",
        ],
    )
    assert done.exit_code == 0, done.output
    assert Scenario.model_validate(load_scenario_file(out).scenario.model_dump())
    bad = runner.invoke(
        app,
        [
            "scenario",
            "generate",
            "--inventory",
            str(GOOD),
            "--type",
            "ransomware",
            "-o",
            str(out),
            "--force",
            "--agent",
            "salez",
        ],
    )
    assert bad.exit_code == 1
    assert f"{GOOD}:4:1:" in bad.output
    assert "unknown agent 'salez'" in bad.output
    broken = runner.invoke(
        app,
        [
            "scenario",
            "generate",
            "--type",
            "ransomware",
            "-o",
            "-",
            "--inventory",
            str(FILES / "inventory" / "unknown-refs.yaml"),
        ],
    )
    assert broken.exit_code == 1
    assert "unknown-refs.yaml:4:24:" in broken.output


def test_cli_product_scope(runner: CliRunner) -> None:
    done = runner.invoke(
        app,
        [
            "scenario",
            "generate",
            "--inventory",
            str(GOOD),
            "--type",
            "credential_leak",
            "--product",
            "Billing",
            "-o",
            "-",
        ],
    )
    assert done.exit_code == 0, done.output
    assert "billing-agent" in done.output
    assert "support-assistant" not in done.output.split("injects:")[0]


# -- property --------------------------------------------------------------------------------


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(min_value=-(2**40), max_value=2**40),
    category=st.sampled_from(list(Category)),
    duration=st.integers(min_value=20, max_value=240),
    profile=st.sampled_from(list(CustomerProfile)),
)
def test_any_seed_gives_a_valid_lint_clean_scenario(
    inventory: Inventory,
    tmp_path: Path,
    seed: int,
    category: Category,
    duration: int,
    profile: CustomerProfile,
) -> None:
    scenario = generate_scenario(
        inventory,
        GenerateRequest(category, seed=seed, duration_minutes=duration, customer_profile=profile),
    )
    path = tmp_path / "generated.yaml"
    path.write_text(scenario_text(scenario), encoding="utf-8")
    assert load_scenario_file(path).scenario == scenario
    assert lint_file(path) == []
    assert {d.phase for d in scenario.decision_points} == set(PHASE_ORDER)


@pytest.mark.parametrize("category", list(Category))
def test_a_minimal_inventory_still_gives_lint_clean_scenarios(
    category: Category, tmp_path: Path
) -> None:
    sparse = load_inventory(FILES / "inventory" / "minimal.yaml")
    scenario = generate_scenario(sparse, GenerateRequest(category, seed=3))
    path = tmp_path / "minimal.yaml"
    text = scenario_text(scenario)
    path.write_text(text, encoding="utf-8")
    assert lint_file(path) == []
    assert "support-assistant" in text
    assert "{" not in text


def test_a_long_agent_name_and_a_large_seed_still_make_a_valid_id() -> None:
    sparse = load_inventory(FILES / "inventory" / "minimal.yaml")
    long_named = sparse.agents[0].model_copy(update={"name": "x" * 80})
    inventory = sparse.model_copy(update={"agents": [long_named], "products": []})
    request = GenerateRequest(Category.BUSINESS_EMAIL_COMPROMISE, seed=10**15)
    scenario = generate_scenario(inventory, request)
    assert len(scenario.id) == 120
    assert scenario.id.startswith("business-email-compromise-xxx")
    assert scenario.id.endswith("x-s1000000000000000")
    with pytest.raises(ConfigError, match="--seed"):
        generate_scenario(inventory, GenerateRequest(Category.OTHER, seed=10**120))
