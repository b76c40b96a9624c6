"""`drillbook lint [PATH...]` reads the whole library (drills, safety profiles, every
drillbook.yaml section), files or folders, and speaks SARIF; `drillbook schema KIND`
covers every document kind; `init` points the editor at the schemas."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from tests.helpers import ROOT, SEED

PLAN = """\
name: broken
target: {kind: local}
safety: safety-profile.yaml
techniques:
  - name: T1082 - uname
    test: uname -a
    expected_detection:
      - sigma_rule: detections/linux/no-such-rule.yml
"""
BAD_PROFILE = """\
safety:
  destructive_actions_allowed: maybe
  blast_radius: this host
"""


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    assert CliRunner().invoke(app, ["init", str(root)]).exit_code == 0
    return root


def _lint(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["lint", "--no-builtin", *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def test_a_fresh_library_lints_clean_with_its_drills(library: Path) -> None:
    code, out, _ = _lint(str(library))
    assert code == 0, out
    assert "0 errors" in out


def test_backend_missing_rule_and_bad_profile_are_all_reported(library: Path) -> None:
    program = library / "drillbook.yaml"
    program.write_text(
        program.read_text(encoding="utf-8") + "detection:\n  backend: splnuk\n", encoding="utf-8"
    )
    (library / "drills" / "broken.yaml").write_text(PLAN, encoding="utf-8")
    (library / "drills" / "safety-profile.yaml").write_text(BAD_PROFILE, encoding="utf-8")
    code, out, _ = _lint(str(library))
    assert code == 1
    flat = " ".join(out.split())
    backend = re.search(r"drillbook\.yaml:(\d+):(\d+): unknown detection backend 'splnuk'", flat)
    assert backend, out
    assert "installed: elastic, local, loki, sentinel, splunk" in flat
    assert re.search(r"broken\.yaml:8:\d+: sigma_rule file detections/linux/no-such-rule", flat)
    assert re.search(r"safety-profile\.yaml:2:\d+: .*destructive_actions_allowed", flat), out


def test_unknown_keys_in_every_section_are_errors(library: Path) -> None:
    program = library / "drillbook.yaml"
    program.write_text(
        program.read_text(encoding="utf-8")
        + "llm:\n  url: http://127.0.0.1:9\n  modle: x\n"
        + "trackers:\n  jria: {url: x}\n"
        + "detection:\n  backend: local\n  rule_dir: detections\n",
        encoding="utf-8",
    )
    code, out, _ = _lint(str(library), "--json")
    assert code == 1
    problems = {(p["code"], p["message"].split(":")[0]) for p in json.loads(out)["problems"]}
    messages = " ".join(p["message"] for p in json.loads(out)["problems"])
    assert "modle" in messages
    assert "rule_dir" in messages
    assert any(code == "unknown-key" and "trackers" in m for code, m in problems), problems


def test_single_files_are_linted_by_kind(library: Path) -> None:
    scenario = next((library / "scenarios").glob("*.yaml"))
    code, out, _ = _lint(str(scenario), str(library / "drills" / "host-discovery.yaml"))
    assert code == 0, out
    assert "in 2 files" in out
    broken = library / "stray.yaml"
    broken.write_text("id: x\ntitle: y\n", encoding="utf-8")
    code, out, _ = _lint(str(broken))
    assert code == 1
    assert "stray.yaml:1:1" in out


def test_sarif_for_code_scanning(library: Path) -> None:
    (library / "drills" / "broken.yaml").write_text(PLAN, encoding="utf-8")
    (library / "drills" / "safety-profile.yaml").write_text(BAD_PROFILE, encoding="utf-8")
    code, out, _ = _lint(str(library), "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    assert run["tool"]["driver"]["name"] == "drillbook"
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    missing = next(r for r in run["results"] if r["ruleId"] == "missing-rule")
    assert rules[missing["ruleIndex"]] == "missing-rule"
    location = missing["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "drills/broken.yaml"
    assert location["region"]["startLine"] == 8
    assert missing["level"] == "error"


KINDS = ("scenario", "program", "inventory", "drill", "safety-profile", "findings", "scorecard")


@pytest.mark.parametrize("kind", KINDS)
def test_every_document_kind_has_a_schema_with_an_id(kind: str) -> None:
    result = CliRunner().invoke(app, ["schema", kind])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["$id"] == f"urn:drillbook:schema:{kind}"
    assert schema["$schema"].endswith("2020-12/schema")
    text = json.dumps(schema)
    if kind in ("scenario", "program", "drill", "safety-profile"):
        assert "[wdhmsWDHMS]" in text  # the duration pattern


def test_schema_accepts_the_seed_documents() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed")
    from drillbook.documents.yaml_io import load_text, to_plain

    result = CliRunner().invoke(app, ["schema", "findings"])
    findings = SEED / "findings" / "scenario-2026-q2-001-run-2026-04-29.yaml"
    document = to_plain(load_text(findings.read_text(encoding="utf-8")))
    jsonschema.validate(json.loads(json.dumps(document, default=str)), json.loads(result.stdout))


def test_init_points_the_editor_at_the_schemas(library: Path) -> None:
    settings = json.loads((library / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    mapping = settings["yaml.schemas"]
    assert mapping["./schemas/scenario.json"] == ["scenarios/*.yaml", "scenarios/**/*.yaml"]
    for target in mapping:
        schema = json.loads((library / target).read_text(encoding="utf-8"))
        assert schema["$id"].startswith("urn:drillbook:schema:")


def test_pre_commit_hook_runs_lint() -> None:
    from drillbook.documents.yaml_io import load_text, to_plain

    hooks = to_plain(load_text((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")))
    [hook] = hooks
    assert hook["id"] == "drillbook-lint"
    assert hook["entry"].split()[:2] == ["drillbook", "lint"]
    assert hook["language"] == "python"
