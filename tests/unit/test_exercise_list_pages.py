"""`exercise list` a page at a time, as `finding list`: a page by default, --cursor for
the next, --all for every one, and a bad cursor or --all with --limit refused plainly."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert
from typer.testing import CliRunner

from drillbook.cli import exercise as exercise_cli
from drillbook.cli.main import app
from drillbook.config import database_url
from drillbook.domain.exercise.models import Exercise
from drillbook.library.scaffolding import scaffold
from drillbook.storage.engine import Store


@pytest.fixture
def library(tmp_path: Path) -> Path:
    root = tmp_path / "lib"
    scaffold(root)
    store = Store(database_url(root))
    try:
        with store.engine.begin() as connection:
            connection.execute(
                insert(Exercise.__table__),
                [
                    {
                        "id": n,
                        "scenario_id": "scenario-x",
                        "title": f"[red]run {n}[/]",
                        "team": ("alpha", "beta")[n % 2],
                        "status": "reported",
                        "run_date": date(2026, 1, 1) + timedelta(days=n),
                        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
                        "participants": [],
                        "next_actions": [],
                    }
                    for n in range(1, 8)
                ],
            )
    finally:
        store.close()
    return root


def _ids(output: str) -> list[str]:
    return [row["exercise"] for row in json.loads(output)]


def test_pages_by_cursor_then_all(
    library: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = ["-L", str(library), "exercise", "list", "--json"]
    first = runner.invoke(app, [*base, "--limit", "3"])
    assert first.exit_code == 0, first.output
    assert _ids(first.stdout) == ["EX-1", "EX-2", "EX-3"]
    assert "more: --cursor EX-3 (or --all for every one)" in first.stderr
    second = runner.invoke(app, [*base, "--limit", "3", "--cursor", "EX-3"])
    assert _ids(second.stdout) == ["EX-4", "EX-5", "EX-6"]
    last = runner.invoke(app, [*base, "--limit", "3", "--cursor", "6"])
    assert _ids(last.stdout) == ["EX-7"]
    assert "more:" not in last.stderr
    # without --limit: a page (LIST_JSON_PAGE); --all: every one
    monkeypatch.setattr(exercise_cli, "LIST_JSON_PAGE", 4)
    paged = runner.invoke(app, base)
    assert _ids(paged.stdout) == ["EX-1", "EX-2", "EX-3", "EX-4"]
    assert "more: --cursor EX-4" in paged.stderr
    every = runner.invoke(app, [*base, "--all"])
    assert _ids(every.stdout) == [f"EX-{n}" for n in range(1, 8)]
    assert "more:" not in every.stderr
    team = runner.invoke(app, [*base, "--team", "beta", "--limit", "2"])
    assert _ids(team.stdout) == ["EX-1", "EX-3"]  # odd numbers are beta's
    assert "more: --cursor EX-3" in team.stderr


def test_the_table_is_a_page_with_titles_as_written(
    library: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(exercise_cli, "LIST_TABLE_PAGE", 5)
    table = runner.invoke(app, ["-L", str(library), "exercise", "list"])
    assert table.exit_code == 0, table.output
    assert "EX-5" in table.stdout
    assert "EX-6" not in table.stdout
    assert "more: --cursor EX-5" in table.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--all", "--limit", "2"], "--all and --limit"),
        (["--cursor", "EX-1; DROP TABLE exercises"], "is not an exercise id"),
        (["--cursor", "[red]x[/]"], "is not an exercise id"),
        (["--limit", "0"], "greater than or equal to 1"),
    ],
)
def test_bad_paging_is_refused(
    library: Path, runner: CliRunner, args: list[str], message: str
) -> None:
    done = runner.invoke(app, ["-L", str(library), "exercise", "list", *args])
    assert done.exit_code != 0
    assert message in done.output
    again = runner.invoke(app, ["-L", str(library), "exercise", "list", "--all", "--json"])
    assert len(json.loads(again.stdout)) == 7  # nothing was touched
