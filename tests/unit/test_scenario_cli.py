"""The seed scenario loads unchanged and round-trips; scenario list/show/export; schema."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.documents.yaml_io import load_text, to_plain
from drillbook.domain.program.models import Program
from drillbook.domain.scenario.models import Scenario
from drillbook.errors import NotFoundError
from drillbook.library.loader import load_scenario_file
from drillbook.library.schema import SCHEMAS, json_schema, schema_names
from tests.helpers import SEED

SEED_SCENARIO = SEED / "scenarios" / "data-exfil-via-mcp.yaml"


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    (root / "scenarios").mkdir(parents=True)
    (root / "drillbook.yaml").write_text("organisation: Test\n", encoding="utf-8")
    shutil.copy(SEED_SCENARIO, root / "scenarios" / SEED_SCENARIO.name)
    return root


def test_the_seed_scenario_loads_as_written() -> None:
    loaded = load_scenario_file(SEED_SCENARIO)
    s = loaded.scenario
    assert s.id == "scenario-2026-q2-001"
    assert s.duration == "90m"
    assert s.duration_minutes == 90
    assert [p.role for p in s.participants][:2] == ["incident_commander", "security_lead"]
    assert s.participants[0].typical_attendee == "senior-sre"
    assert [i.time for i in s.injects] == ["0m", "15m", "30m", "45m"]
    assert s.initial_state.startswith("It's Tuesday at 14:30 UTC.")
    assert len(s.discussion_questions) == 5
    assert [c.by for c in s.criteria] == ["5m", "30m", "60m", "90m", None]
    assert s.criteria[0].evidence is None  # a sentence: its words only suggest
    suggested = s.criteria[0].suggested
    assert suggested is not None
    assert suggested.role == "incident_commander"


def test_export_round_trip_keeps_keys_order_and_values(library: Path, runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["--library", str(library), "scenario", "export", "scenario-2026-q2-001"]
    )
    assert result.exit_code == 0, result.output
    original = SEED_SCENARIO.read_text(encoding="utf-8")
    assert result.stdout == original  # verbatim, comment line included
    again = to_plain(load_text(result.stdout))
    before = to_plain(load_text(original))
    assert list(again) == list(before)
    assert again == before


def test_export_to_a_file_refuses_to_overwrite(
    library: Path, runner: CliRunner, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "copy.yaml"
    args = ["--library", str(library), "scenario", "export", "scenario-2026-q2-001", "-o", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    assert out.read_text(encoding="utf-8") == SEED_SCENARIO.read_text(encoding="utf-8")
    again = runner.invoke(app, args)
    assert again.exit_code == 1
    assert "already exists" in again.output
    assert runner.invoke(app, [*args, "--force"]).exit_code == 0


def test_model_document_keeps_the_seed_keys() -> None:
    s = load_scenario_file(SEED_SCENARIO).scenario
    seed_keys = list(to_plain(load_text(SEED_SCENARIO.read_text(encoding="utf-8"))))
    assert list(s.to_document()) == seed_keys


def test_list_shows_a_table_with_the_source(library: Path, runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["--library", str(library), "scenario", "list"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "scenario-2026-q2-001" in result.output
    assert re.search(r"scenario-2026-q2-001\s*│.*│\s*90m\s*│\s*library", result.output)
    for header in ("id", "title", "category", "difficulty", "duration", "source"):
        assert header in result.output


def test_list_json_and_filters(library: Path, runner: CliRunner) -> None:
    extra = SEED_SCENARIO.read_text(encoding="utf-8").replace(
        "id: scenario-2026-q2-001",
        "id: tagged-one\ncategory: ransomware\ndifficulty: gentle\ntags: [T1486]",
    )
    (library / "scenarios" / "tagged.yaml").write_text(extra, encoding="utf-8")
    base = ["--library", str(library), "scenario", "list", "--json"]
    everything = json.loads(runner.invoke(app, base).stdout)
    ids = {row["id"] for row in everything}
    assert {"scenario-2026-q2-001", "tagged-one"} <= ids
    row = next(r for r in everything if r["id"] == "tagged-one")
    assert row["source"] == "library"
    assert row["category"] == "ransomware"
    for flags in (["--category", "ransomware"], ["--difficulty", "gentle"], ["--tag", "t1486"]):
        found = json.loads(runner.invoke(app, [*base, *flags]).stdout)
        assert [r["id"] for r in found if r["source"] == "library"] == ["tagged-one"]


def test_list_rejects_an_unknown_category(library: Path, runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["--library", str(library), "scenario", "list", "--category", "nope"]
    )
    assert result.exit_code == 2


def test_show_renders_the_parts(library: Path, runner: CliRunner) -> None:
    result = runner.invoke(
        app,
        ["--library", str(library), "scenario", "show", "scenario-2026-q2-001"],
        env={"COLUMNS": "160"},
    )
    assert result.exit_code == 0, result.output
    for part in (
        "Initial state",
        "Participants",
        "Phases",
        "Injects",
        "Success criteria",
        "Discussion questions",
        "by t+30m",
        "Containment",
        "t+45m",
    ):
        assert part in result.output, part


def test_show_json_has_parsed_criteria(library: Path, runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["--library", str(library), "scenario", "show", "scenario-2026-q2-001", "--json"]
    )
    data = json.loads(result.stdout)
    assert data["source"] == "library"
    assert data["criteria"][1]["by"] == "30m"
    assert [w["name"] for w in data["phase_windows"]] == [
        "detection",
        "containment",
        "communication",
        "post_incident_review",
    ]


def test_show_yaml_is_the_file(library: Path, runner: CliRunner) -> None:
    result = runner.invoke(
        app, ["--library", str(library), "scenario", "show", "scenario-2026-q2-001", "--yaml"]
    )
    assert result.stdout == SEED_SCENARIO.read_text(encoding="utf-8")


def test_show_unknown_id_is_a_clean_error(library: Path, runner: CliRunner) -> None:
    result = runner.invoke(app, ["--library", str(library), "scenario", "show", "nope"])
    assert result.exit_code == 1
    assert "no scenario with id 'nope'" in result.output
    assert "Traceback" not in result.output


# -- JSON Schema --------------------------------------------------------------------------


def _check(schema: dict[str, Any], value: Any, root: dict[str, Any], where: str = "$") -> list[str]:
    """A small validator for the subset of JSON Schema pydantic emits (jsonschema is not a
    dependency): $ref, anyOf, type, enum, pattern, properties, required,
    additionalProperties, items, minItems."""
    if "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        return _check(root["$defs"][name], value, root, where)
    if "anyOf" in schema:
        for option in schema["anyOf"]:
            if not _check(option, value, root, where):
                return []
        return [f"{where}: matches no anyOf option"]
    errors: list[str] = []
    kind = schema.get("type")
    types = {
        "string": str,
        "object": dict,
        "array": list,
        "boolean": bool,
        "null": type(None),
        "integer": int,
        "number": (int, float),
    }
    if kind and not isinstance(value, types[kind]):  # type: ignore[arg-type]
        return [f"{where}: expected {kind}"]
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: not in enum")
    if "pattern" in schema and isinstance(value, str) and not re.search(schema["pattern"], value):
        errors.append(f"{where}: pattern")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        errors += [f"{where}: missing {k}" for k in schema.get("required", []) if k not in value]
        for key, item in value.items():
            if key in props:
                errors += _check(props[key], item, root, f"{where}.{key}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{where}: unexpected {key}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            errors.append(f"{where}: too few items")
        for i, item in enumerate(value):
            errors += _check(schema.get("items", {}), item, root, f"{where}[{i}]")
    return errors


def test_scenario_schema_accepts_the_seed_and_rejects_typos() -> None:
    schema = json_schema("scenario")
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == {
        "id",
        "title",
        "duration",
        "participants",
        "initial_state",
        "injects",
    }
    seed = to_plain(load_text(SEED_SCENARIO.read_text(encoding="utf-8")))
    assert _check(schema, seed, schema) == []
    broken = {**seed, "titel": "x"}
    assert _check(schema, broken, schema) == ["$: unexpected titel"]
    bad_role = json.loads(json.dumps(seed))
    bad_role["participants"][0]["role"] = "Incident Commander"
    assert _check(schema, bad_role, schema) == ["$.participants[0].role: pattern"]


def test_program_schema_accepts_the_scaffold() -> None:
    scaffold = Path(__file__).resolve().parents[2] / "src/drillbook/library/scaffold"
    doc = to_plain(load_text((scaffold / "drillbook.yaml").read_text(encoding="utf-8")))
    schema = json_schema("program")
    assert _check(schema, doc, schema) == []
    Program.model_validate(doc)


def test_schema_registry_and_cli(runner: CliRunner) -> None:
    assert SCHEMAS["scenario"].model is Scenario
    assert {"scenario", "program"} <= set(schema_names())
    with pytest.raises(NotFoundError, match="no schema named 'nope'"):
        json_schema("nope")
    listed = runner.invoke(app, ["schema", "--list"])
    assert listed.exit_code == 0
    assert "scenario" in listed.output
    printed = runner.invoke(app, ["schema", "scenario"])
    assert json.loads(printed.stdout)["title"] == "Scenario"
    assert runner.invoke(app, ["schema", "nope"]).exit_code == 1


def test_show_prints_brackets_as_written(tmp_path: Path, runner: CliRunner) -> None:
    """Scenario text is the user's: `[/]` or `[red]` is printed, never read as markup."""
    root = tmp_path / "lib"
    (root / "scenarios").mkdir(parents=True)
    (root / "drillbook.yaml").write_text("organisation: T\n", encoding="utf-8")
    text = SEED_SCENARIO.read_text(encoding="utf-8").replace(
        "Initial alert. IC begins triage.", "Alert [/] says [red]PAGE[/red] in #ops."
    )
    (root / "scenarios" / "s.yaml").write_text(text, encoding="utf-8")
    result = runner.invoke(
        app,
        ["--library", str(root), "scenario", "show", "scenario-2026-q2-001"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "Alert [/] says [red]PAGE[/red]" in result.output
