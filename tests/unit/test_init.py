"""``drillbook init`` scaffolds a library that lints clean, and never clobbers one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.domain.inventory.service import load_inventory
from drillbook.domain.scenario.enums import Difficulty
from drillbook.errors import ConflictError, NotFoundError
from drillbook.library import scaffolding
from drillbook.library.loader import load_builtin, load_program
from drillbook.library.scaffolding import gentlest_builtin, scaffold


def test_init_then_lint_is_clean(tmp_path: Path, runner: CliRunner) -> None:
    root = tmp_path / "lib"
    result = runner.invoke(app, ["init", str(root)])
    assert result.exit_code == 0, result.output
    for name in ("drillbook.yaml", "inventory.yaml", "drills/README.md", ".gitignore"):
        assert (root / name).is_file(), name
    assert ".drillbook/" in (root / ".gitignore").read_text(encoding="utf-8").split()
    assert len(list((root / "scenarios").glob("*.yaml"))) == 1
    lint = runner.invoke(app, ["lint", str(root), "--no-builtin", "--format", "json"])
    assert lint.exit_code == 0, lint.output
    assert json.loads(lint.stdout)["errors"] == 0


def test_the_scaffold_program_has_the_defaults(tmp_path: Path) -> None:
    scaffold(tmp_path)
    program = load_program(tmp_path)
    assert program.sla.days("critical") == 7
    assert program.sla.days("high") == 30
    assert program.sla.days("medium") == 90
    assert program.sla.days("low") == 120
    assert len(program.teams) >= 2
    assert any("incident_commander" in p.roles for p in program.people)
    assert program.cadence.review_library_every == "13w"


def test_the_scaffold_inventory_loads(tmp_path: Path) -> None:
    scaffold(tmp_path)
    inventory = load_inventory(tmp_path / "inventory.yaml")
    assert [a.name for a in inventory.agents] == ["support-assistant"]
    assert inventory.tools
    assert inventory.customers


def test_seed_shaped_example_when_no_builtins(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scaffolding, "load_builtin", dict)
    result = scaffold(tmp_path / "lib")
    assert result.scenarios == ["example-wrong-team-exposure"]
    lint = runner.invoke(app, ["lint", str(tmp_path / "lib"), "--no-builtin", "--strict"])
    assert lint.exit_code == 0, lint.output


def test_init_refuses_to_overwrite(tmp_path: Path, runner: CliRunner) -> None:
    scaffold(tmp_path)
    (tmp_path / "drillbook.yaml").write_text("organisation: Mine\n", encoding="utf-8")
    with pytest.raises(ConflictError, match="already exists"):
        scaffold(tmp_path)
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert "Traceback" not in result.output
    assert (tmp_path / "drillbook.yaml").read_text(encoding="utf-8") == "organisation: Mine\n"
    forced = runner.invoke(app, ["init", str(tmp_path), "--force"])
    assert forced.exit_code == 0
    assert "Example Corp" in (tmp_path / "drillbook.yaml").read_text(encoding="utf-8")


def test_gitignore_is_appended_not_replaced(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("node_modules/", encoding="utf-8")
    scaffold(tmp_path)
    lines = (tmp_path / ".gitignore").read_text(encoding="utf-8").split()
    assert lines[0] == "node_modules/"
    assert ".drillbook/" in lines
    scaffold(tmp_path, force=True)
    assert (tmp_path / ".gitignore").read_text(encoding="utf-8").count(".drillbook/") == 1


def test_unknown_builtin_is_a_clean_error(tmp_path: Path, runner: CliRunner) -> None:
    with pytest.raises(NotFoundError, match="no built-in scenario 'nope'"):
        scaffold(tmp_path, builtin_ids=["nope"])
    assert not (tmp_path / "drillbook.yaml").exists()
    result = runner.invoke(app, ["init", str(tmp_path / "x"), "--from-builtin", "nope"])
    assert result.exit_code == 1


def test_from_builtin_copies_the_file_verbatim(tmp_path: Path, runner: CliRunner) -> None:
    builtins = load_builtin()
    assert len(builtins) >= 2  # shipped as package data: a skip would hide losing them
    chosen = sorted(builtins)[:2]
    args = ["init", str(tmp_path)]
    for sid in chosen:
        args += ["--from-builtin", sid]
    assert runner.invoke(app, args).exit_code == 0
    for sid in chosen:
        source = builtins[sid].path
        assert (tmp_path / "scenarios" / source.name).read_bytes() == source.read_bytes()


def test_default_scenario_is_the_gentlest() -> None:
    builtins = load_builtin()
    gentle = gentlest_builtin(builtins)
    assert gentle is not None
    ranks = [s.scenario.difficulty.rank for s in builtins.values() if s.scenario.difficulty]
    assert gentle.scenario.difficulty is not None
    assert gentle.scenario.difficulty.rank == min(ranks, default=Difficulty.GENTLE.rank)


def test_init_keeps_the_users_own_files(tmp_path: Path) -> None:
    """A folder without drillbook.yaml may already hold edited scenarios or an inventory:
    init adds what is missing and replaces nothing unless forced."""
    first = scaffold(tmp_path)
    (tmp_path / "drillbook.yaml").unlink()
    kept = {"drillbook.yaml", ".gitignore"}
    mine = {path: b"# mine\n" for path in first.written if path.name not in kept}
    for path, data in mine.items():
        path.write_bytes(data)
    again = scaffold(tmp_path)
    assert again.written == [tmp_path / "drillbook.yaml"]
    assert again.scenarios == []
    assert all(path.read_bytes() == data for path, data in mine.items())
