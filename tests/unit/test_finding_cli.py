"""`drillbook finding ...` from the command line: filters, JSON, errors, import conflicts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.clock import FakeClock
from tests.helpers import SEED

SEED_DOC = SEED / "findings" / "scenario-2026-q2-001-run-2026-04-29.yaml"


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    root.mkdir()
    (root / "drillbook.yaml").write_text(
        "organisation: Acme\nsla: {critical: 3d}\ncadence: {followup_after: 10d}\n",
        encoding="utf-8",
    )
    return root


def _run(runner: CliRunner, library: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["-L", str(library), *args])
    return result.exit_code, result.output


@pytest.mark.slow
def test_add_list_update_close(runner: CliRunner, library: Path, fake_clock: FakeClock) -> None:
    code, out = _run(
        runner,
        library,
        "finding",
        "add",
        "-d",
        "Rule muted since December",
        "-s",
        "critical",
        "--source",
        "drill",
        "--source-ref",
        "drill-1",
        "--json",
    )
    assert code == 0, out
    added = json.loads(out)
    assert added["id"] == "F-001"
    assert added["due_date"] == "2026-05-02"
    assert added["capability"] == "detection"
    _run(runner, library, "finding", "add", "-d", "Comms slow", "-s", "low", "--owner", "pr")
    code, out = _run(runner, library, "finding", "list", "--severity", "low", "--json")
    assert [f["id"] for f in json.loads(out)] == ["F-002"]
    code, out = _run(
        runner,
        library,
        "finding",
        "update",
        "F-002",
        "--status",
        "in_progress",
        "--owner",
        "comms-team",
        "--json",
    )
    assert code == 0
    assert json.loads(out)["owner"] == "comms-team"
    code, out = _run(runner, library, "finding", "close", "F-002", "--as", "open")
    assert code == 2  # a bad flag value is a usage error
    assert "--as must be one of" in out
    code, out = _run(
        runner,
        library,
        "finding",
        "close",
        "F-002",
        "--as",
        "wont_do",
        "--note",
        "accepted by the CISO",
    )
    assert code == 0
    assert "F-002: wont_do" in out
    code, out = _run(runner, library, "finding", "list", "--open", "--json")
    assert [f["id"] for f in json.loads(out)] == ["F-001"]
    code, out = _run(runner, library, "finding", "show", "F-002", "--json")
    history = json.loads(out)["history"]
    assert [h["to"] for h in history if h["kind"] == "status"] == ["open", "in_progress", "wont_do"]


def test_bad_input_is_one_clear_message(
    runner: CliRunner, library: Path, fake_clock: FakeClock
) -> None:
    code, out = _run(runner, library, "finding", "add", "-d", "x", "-s", "urgent")
    assert code == 1
    assert "unknown severity 'urgent'" in out
    assert "Traceback" not in out
    code, out = _run(runner, library, "finding", "show", "F-404")
    assert code == 1
    assert "no finding F-404" in out
    code, out = _run(
        runner, library, "finding", "add", "-d", "x", "-s", "low", "--target-date", "next week"
    )
    assert code == 2  # a bad flag value: a usage error
    assert "YYYY-MM-DD" in out


@pytest.mark.slow
def test_import_twice_then_conflict(
    runner: CliRunner, library: Path, fake_clock: FakeClock, tmp_path: Path
) -> None:
    code, out = _run(runner, library, "finding", "import", str(SEED_DOC), "--json")
    assert code == 0
    assert json.loads(out)["created"] == ["F-001", "F-002", "F-003"]
    code, out = _run(runner, library, "finding", "import", str(SEED_DOC))
    assert code == 0
    assert "created 0, unchanged 3, conflicts 0" in out
    changed = tmp_path / "changed.yaml"
    shutil.copy(SEED_DOC, changed)
    changed.write_text(
        changed.read_text(encoding="utf-8").replace("2026-05-31", "2026-06-15"), encoding="utf-8"
    )
    code, out = _run(runner, library, "finding", "import", str(changed))
    assert code == 1
    assert "conflict: F-002: target_date: stored 2026-05-31, file 2026-06-15" in out
    code, out = _run(runner, library, "finding", "export", "1", "-o", "-")
    assert code == 0
    assert "target_date: 2026-05-31" in out
