"""Fixes from the drill review: coverage per technique id, scorecards that never overwrite,
acknowledgements after the detonation only, ATTiRe cleanup steps and ids, ``-o DIR``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.cli.scorecard import free_scorecard_path
from drillbook.domain.scorecard.models import DetectionResultRow
from drillbook.domain.scorecard.navigator import attack_id_of, build_layer

PLAN = """\
name: review
techniques:
  - name: T1082 - uname
    test: uname -s
    cleanup: echo tidy; echo oops >&2
  - name: T1082 - uname again
    test: uname -r
"""


@pytest.fixture
def drilled(tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DRILLBOOK_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    monkeypatch.chdir(tmp_path)
    plan = tmp_path / "plan.yaml"
    plan.write_text(PLAN)
    done = runner.invoke(app, ["drill", "run", str(plan), "--no-sensor", "--json"])
    assert done.exit_code == 0, done.output
    return str(json.loads(done.stdout)["id"])


def _row(technique: str, fired: bool, number: int) -> DetectionResultRow:
    return DetectionResultRow(
        id=number,
        drill_run_id=f"run{number}",
        technique_run_id=f"tr{number}",
        technique=technique,
        expected_rule="rule",
        verdict="fired" if fired else "not_fired",
        fired=fired,
        checked_at=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=number),
    )


def test_coverage_counts_atomic_tests_for_their_technique() -> None:
    assert attack_id_of("T1082-3") == "T1082"
    assert attack_id_of("t1087.001-12") == "T1087.001"
    assert attack_id_of("T1082") == "T1082"
    assert attack_id_of("inline-2") is None
    layer = build_layer(
        [_row("T1082-3", True, 1), _row("T1082-1", False, 2), _row("inline-2", True, 3)]
    )
    [technique] = layer["techniques"]
    assert technique["techniqueID"] == "T1082"
    assert technique["score"] == 50
    assert "T1082-1, T1082-3" in technique["comment"]
    assert "T1082-3 is not" not in layer["description"]
    assert "inline-2" in layer["description"]


def test_scorecards_of_one_day_never_overwrite(tmp_path: Path) -> None:
    name = "2026-11-30-review.yaml"
    first = free_scorecard_path(tmp_path, name, "run-a")
    first.write_text("drill_run: run-a\n")
    assert free_scorecard_path(tmp_path, name, "run-a") == first  # re-scoring replaces
    second = free_scorecard_path(tmp_path, name, "run-b")
    assert second.name == "2026-11-30-review-2.yaml"
    second.write_text("drill_run: run-b\n")
    assert free_scorecard_path(tmp_path, name, "run-c").name == "2026-11-30-review-3.yaml"


def test_ack_before_the_detonation_is_refused(drilled: str, runner: CliRunner) -> None:
    early = "2000-01-01T00:00:00Z"
    refused = runner.invoke(app, ["drill", "ack", drilled, "T1082", "--at", early])
    assert refused.exit_code != 0
    assert "before T1082 was detonated" in refused.output
    assert "Traceback" not in refused.output
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    accepted = runner.invoke(app, ["drill", "ack", drilled, "T1082", "--at", later])
    assert accepted.exit_code == 0, accepted.output


def test_attire_has_real_cleanup_steps_and_unique_ids(drilled: str, runner: CliRunner) -> None:
    exported = runner.invoke(app, ["drill", "export", drilled, "--attire"])
    assert exported.exit_code == 0, exported.output
    procedures = json.loads(exported.stdout)["procedures"]
    first, second = procedures
    assert first["procedure-id"] != second["procedure-id"]
    assert first["procedure-id"]["type"] == "guid"
    detonation, cleanup = first["steps"]
    assert detonation["command"] == "sh -c uname -s"  # as it ran, no marker
    assert cleanup["time-start"] >= detonation["time-stop"]
    assert cleanup["time-stop"] >= cleanup["time-start"]
    levels = {o["level"]: o["content"] for o in cleanup["output"]}
    assert levels == {"STDOUT": "tidy\n", "STDERR": "oops\n"}
    again = runner.invoke(app, ["drill", "export", drilled, "--attire"])
    assert json.loads(again.stdout)["procedures"][0]["procedure-id"] == first["procedure-id"]


@pytest.mark.parametrize(
    "args",
    [
        ["drill", "export", "RUN", "--attire", "-o", "DIR"],
        ["drill", "coverage", "-o", "DIR"],
        ["drill", "score", "RUN", "--no-wait", "--no-findings", "-o", "DIR"],
    ],
)
def test_output_to_a_folder_is_a_clear_error(
    drilled: str, runner: CliRunner, tmp_path: Path, args: list[str]
) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    argv = [drilled if a == "RUN" else str(folder) if a == "DIR" else a for a in args]
    done = runner.invoke(app, argv)
    assert done.exit_code != 0
    assert f"cannot write {folder}: it is a folder; give a file name" in done.output
    assert "Traceback" not in done.output
