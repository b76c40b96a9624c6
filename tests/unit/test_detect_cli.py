"""The detect and drill score/coverage/ack commands."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.config import database_url
from drillbook.documents.yaml_io import load_text, to_plain
from drillbook.storage.engine import Store
from tests.helpers import FILES, shared_data
from tests.unit.test_scorecard import LS, UNAME, make_run

DETECTION = FILES / "detection"


def linux() -> str:
    return str(shared_data() / "sigma" / "rules" / "linux" / "process_creation")


@pytest.mark.slow
def test_detect_run_lists_the_rules_that_fired(runner: CliRunner) -> None:
    result = runner.invoke(
        app,
        [
            "detect",
            "run",
            "--rules",
            linux(),
            "--events",
            str(DETECTION / "t1082-uname.jsonl"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [f["title"] for f in data["fired"]] == ["System Information Discovery"]
    assert data["fired"][0]["level"] == "informational"
    assert data["fired"][0]["matches"] == 3


def test_detect_run_honours_the_window(runner: CliRunner) -> None:
    result = runner.invoke(
        app,
        [
            "detect",
            "run",
            "--rules",
            str(DETECTION / "rules"),
            "--events",
            str(DETECTION / "t1082-uname.jsonl"),
            "--from",
            "2026-04-29T15:00:00Z",
            "--to",
            "2026-04-29T16:00:00Z",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["fired"] == []


def test_detect_run_reports_a_bad_events_file_with_its_line(
    runner: CliRunner, tmp_path: Path
) -> None:
    bad = tmp_path / "events.jsonl"
    bad.write_text('{"Image": "/bin/ls"}\nnot json\n')
    result = runner.invoke(
        app, ["detect", "run", "--rules", str(DETECTION / "rules"), "--events", str(bad)]
    )
    assert result.exit_code == 1
    assert f"{bad}:2:1: not JSON" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_detect_test_passes_and_fails_on_a_regression(runner: CliRunner, tmp_path: Path) -> None:
    ok = runner.invoke(app, ["detect", "test", "--rules", linux(), "--fixtures", str(DETECTION)])
    assert ok.exit_code == 0, ok.output
    # the rule decays: someone narrows it so that uname no longer matches
    rules = tmp_path / "rules"
    rules.mkdir()
    original = Path(linux()) / "proc_creation_lnx_system_info_discovery.yml"
    decayed = original.read_text().replace("- '/uname'", "- '/uname.exe'")
    decayed = decayed.replace("- '/hostname'", "- '/hostname.exe'")
    decayed = decayed.replace("- '/uptime'", "- '/uptime.exe'")
    (rules / original.name).write_text(decayed)
    bad = runner.invoke(
        app, ["detect", "test", "--rules", str(rules), "--fixtures", str(DETECTION), "--json"]
    )
    assert bad.exit_code == 1
    data = json.loads(bad.stdout)
    assert data["passed"] is False
    assert data["checks"][0]["status"] == "regression"


def test_detect_convert_for_local_and_a_siem(runner: CliRunner) -> None:
    rule = str(DETECTION / "rules" / "whoami_exact.yml")
    local = runner.invoke(app, ["detect", "convert", rule])
    assert local.exit_code == 0
    assert "process_creation" in local.stdout
    splunk = runner.invoke(app, ["detect", "convert", "--backend", "splunk", rule])
    assert splunk.exit_code == 0, splunk.output
    assert 'Image="/usr/bin/whoami"' in splunk.stdout
    unknown = runner.invoke(app, ["detect", "convert", "--backend", "nosuch", rule])
    assert unknown.exit_code == 1
    assert "no detection backend named 'nosuch'" in unknown.output


def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    root.mkdir()
    (root / "drillbook.yaml").write_text("organisation: Example\ndetection:\n  backend: local\n")
    return root


@pytest.mark.slow
def test_drill_score_writes_the_seed_scorecard_and_coverage(
    runner: CliRunner, tmp_path: Path
) -> None:
    root = library(tmp_path)
    rules = root / "rules"
    rules.mkdir()
    shutil.copy(Path(linux()) / "proc_creation_lnx_system_info_discovery.yml", rules)
    store = Store(database_url(root))
    make_run(
        store,
        "run1",
        commands=UNAME,
        rule=str(rules / "proc_creation_lnx_system_info_discovery.yml"),
    )
    store.close()
    result = runner.invoke(app, ["--library", str(root), "drill", "score", "run1"])
    assert result.exit_code == 0, result.output
    card = root / "drill-results" / "2026-04-29-purple-team.yaml"
    data = to_plain(load_text(card.read_text()))
    assert data["detections_fired"] == 1
    assert data["failures"] == []
    ack = runner.invoke(
        app,
        ["--library", str(root), "drill", "ack", "run1", "T1082", "--at", "2026-04-29T14:33:01Z"],
    )
    assert ack.exit_code == 0, ack.output
    again = runner.invoke(app, ["--library", str(root), "drill", "score", "run1", "--json"])
    scored = json.loads(again.stdout)["scorecard"]
    assert scored["mean_time_to_human_acknowledgement_seconds"] == {"p50": 180, "p95": 180}
    layer_file = tmp_path / "layer.json"
    cov = runner.invoke(app, ["--library", str(root), "drill", "coverage", "-o", str(layer_file)])
    assert cov.exit_code == 0, cov.output
    layer = json.loads(layer_file.read_text())
    assert layer["techniques"][0]["techniqueID"] == "T1082"
    assert layer["techniques"][0]["score"] == 100


def test_drill_score_opens_a_finding_for_a_failure(runner: CliRunner, tmp_path: Path) -> None:
    root = library(tmp_path)
    store = Store(database_url(root))
    make_run(
        store,
        "run1",
        commands=LS,
        rule=str(DETECTION / "rules" / "whoami_exact.yml"),
        expected_severity="high",
    )
    store.close()
    out = tmp_path / "card.yaml"
    result = runner.invoke(
        app, ["--library", str(root), "drill", "score", "run1", "-o", str(out), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert len(data["findings_opened"]) == 1
    (failure,) = to_plain(load_text(out.read_text()))["failures"]
    assert failure["fired"] is False
    assert failure["finding"] == data["findings_opened"][0]


def test_drill_ack_rejects_an_unknown_technique(runner: CliRunner, tmp_path: Path) -> None:
    root = library(tmp_path)
    store = Store(database_url(root))
    make_run(store, "run1", commands=LS, rule="x.yml")
    store.close()
    result = runner.invoke(app, ["--library", str(root), "drill", "ack", "run1", "T9999"])
    assert result.exit_code == 1
    assert "has no technique T9999" in result.output


def test_a_bad_detection_section_is_a_located_error(runner: CliRunner, tmp_path: Path) -> None:
    root = tmp_path / "lib"
    root.mkdir()
    (root / "drillbook.yaml").write_text(
        "organisation: Example\ndetection:\n  backend: splunk\n  splunk:\n"
        "    token_env: SPLUNK_TOKEN\n    timeout_seconds: -1\n"
    )
    result = runner.invoke(app, ["--library", str(root), "drill", "score", "nosuchrun"])
    assert result.exit_code == 1
    assert "drillbook.yaml:5:" in result.output
    assert "missing required key 'url'" in result.output
    assert "drillbook.yaml:6:" in result.output
