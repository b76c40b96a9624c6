"""One CLI grammar, checked by walking the command tree, and no traceback for a bad path.

Rules: every exercise command takes ``-e/--exercise``; every list, show, status and
timeline command takes ``--json`` (and lint, plan and brief take the same flag); every
``-o`` says that ``-`` is standard output and honours it; ``phase`` accepts every short
name its help lists. Every command that writes ``-o FILE`` answers a folder, a path under
``/proc`` and a read-only path with one ``cannot write PATH: reason`` line and exit 1.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
import pytest
from typer.testing import CliRunner

from drillbook.cli.app import load_all_commands
from drillbook.cli.main import app
from drillbook.clock import FakeClock
from drillbook.config import database_url
from drillbook.domain.exercise import service
from drillbook.domain.scenario.enums import parse_phase
from drillbook.library.loader import load_scenario_file
from drillbook.storage.engine import Store
from tests.helpers import FILES, SEED
from tests.unit.test_scorecard import UNAME, make_run

SCENARIO = "scenario-2026-q2-001"
NO_EXERCISE = {("exercise", "create"), ("exercise", "list"), ("exercise", "plan")}
JSON_NAMES = {"list", "show", "status", "timeline", "rank"}


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[Any]:
    if isinstance(command, click.Group) or hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield path, command


def _tree() -> dict[tuple[str, ...], click.Command]:
    tree: dict[tuple[str, ...], click.Command] = {}
    for name, command in load_all_commands().items():
        tree.update(_commands(command, (name,)))
    return tree


def _options(command: click.Command) -> dict[str, click.Parameter]:
    return {opt: p for p in command.params for opt in getattr(p, "opts", [])}


def test_the_command_tree_follows_one_grammar() -> None:
    tree = _tree()
    assert ("exercise", "tag") in tree
    problems = []
    for path, command in tree.items():
        opts = _options(command)
        name = " ".join(path)
        takes_exercise = path[0] == "exercise" and path not in NO_EXERCISE
        if takes_exercise and not {"-e", "--exercise"} <= set(opts):
            problems.append(f"{name}: no -e/--exercise")
        if path[-1] in JSON_NAMES and "--json" not in opts:
            problems.append(f"{name}: no --json")
        if "-o" in opts and "'-'" not in (getattr(opts["-o"], "help", "") or ""):
            problems.append(f"{name}: -o does not say '-' is standard output")
    for path in (("lint",), ("exercise", "plan"), ("exercise", "brief")):
        if "--json" not in _options(tree[path]):
            problems.append(f"{' '.join(path)}: no --json (lint and plan share the flag)")
    assert problems == []


def test_phase_accepts_every_name_its_help_lists(library: Path) -> None:
    """`phase review` was refused although --help listed it."""
    phase = next(p for p in _tree()[("exercise", "phase")].params if p.name == "name")
    listed = str(getattr(phase, "help", "")).split("):", 1)[1]
    names = [w.strip(" .") for w in re.split(r",|\bor\b", listed) if w.strip(" .")]
    assert {"review", "comms", "post_incident_review"} <= set(names)
    for name in names:
        parse_phase(name)
    runner = CliRunner()
    assert runner.invoke(app, ["exercise", "create", SCENARIO]).exit_code == 0
    assert runner.invoke(app, ["exercise", "start", "-e", "2"]).exit_code == 0
    moved = runner.invoke(app, ["exercise", "phase", "review", "-e", "2", "--json"])
    assert moved.exit_code == 0, moved.output
    assert '"phase": "post_incident_review"' in moved.stdout
    wrong = runner.invoke(app, ["exercise", "phase", "lunch", "-e", "2"])
    assert wrong.exit_code == 2
    assert "unknown phase 'lunch'; use one of: detection" in wrong.stderr


# -- files: -o - is stdout; bad paths are one clear error ---------------------------------


@pytest.fixture
def library(tmp_path: Path, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "lib"
    assert CliRunner().invoke(app, ["init", str(root)]).exit_code == 0
    shutil.copy(SEED / "scenarios" / "data-exfil-via-mcp.yaml", root / "scenarios")
    scenario = load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    store = Store(database_url(root))
    with store.session() as session:
        exercise = service.create_exercise(session, scenario=scenario, team="sre")
        service.start(session, exercise)
        fake_clock.advance(timedelta(minutes=30))
        service.end(session, exercise)
    rules = root / "rules"
    rules.mkdir()
    shutil.copy(FILES / "detection" / "rules" / "keyword_history.yml", rules)
    make_run(store, "run1", commands=UNAME, rule=str(rules / "keyword_history.yml"))
    store.close()
    monkeypatch.chdir(root)
    return root


WRITERS: dict[tuple[str, ...], list[str]] = {
    ("exercise", "report"): ["exercise", "report", "-e", "1"],
    ("exercise", "plan"): ["exercise", "plan", SCENARIO],
    ("exercise", "brief"): ["exercise", "brief", "-e", "1"],
    ("scenario", "export"): ["scenario", "export", SCENARIO],
    ("scenario", "generate"): ["scenario", "generate", "--type", "prompt_injection", "--force"],
    ("drill", "export"): ["drill", "export", "run1"],
    ("drill", "score"): ["drill", "score", "run1", "--no-wait", "--no-findings"],
    ("drill", "coverage"): ["drill", "coverage"],
    ("finding", "export"): ["finding", "export", "-e", "1"],
}
"""Every command with -o, and the arguments it needs; the first test keeps it complete."""


def _read_only(tmp_path: Path) -> Path:
    if os.geteuid() != 0:
        folder = tmp_path / "read-only"
        folder.mkdir()
        folder.chmod(0o555)
        return folder / "out.txt"
    # root writes through file modes; sysfs refuses new files even to root
    return Path("/sys/drillbook-read-only-test/out.txt")


def test_every_writer_is_listed() -> None:
    with_output = {path for path, command in _tree().items() if "-o" in _options(command)}
    assert with_output == set(WRITERS)


@pytest.mark.parametrize("path", sorted(WRITERS), ids=" ".join)
def test_bad_output_paths_are_one_clear_error(
    library: Path, tmp_path: Path, path: tuple[str, ...]
) -> None:
    runner = CliRunner()
    targets = [Path("/proc/drillbook-no-such/out.txt"), _read_only(tmp_path)]
    if path != ("finding", "export"):  # its -o is a folder to write under
        targets.append(library)
    for target in targets:
        result = runner.invoke(app, [*WRITERS[path], "-o", str(target)])
        assert result.exit_code == 1, (target, result.output)
        assert isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        assert re.search(rf"error: cannot write[^\n]* {re.escape(str(target))}", result.stderr)


@pytest.mark.parametrize("path", sorted(WRITERS), ids=" ".join)
def test_dash_output_is_standard_output(library: Path, path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*WRITERS[path], "-o", "-"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip()
    assert not (library / "-").exists()


def test_dash_input_is_standard_input(library: Path) -> None:
    text = (SEED / "scenarios" / "data-exfil-via-mcp.yaml").read_text(encoding="utf-8")
    result = CliRunner().invoke(app, ["exercise", "plan", "-", "--json"], input=text)
    assert result.exit_code == 0, result.output
    assert '"scenario": "scenario-2026-q2-001"' in result.stdout


def test_bad_input_paths_are_one_clear_error(library: Path) -> None:
    runner = CliRunner()
    for argv in (["detect", "convert", str(library)], ["finding", "import", str(library)]):
        result = runner.invoke(app, argv)
        assert result.exit_code == 1, result.output
        assert isinstance(result.exception, SystemExit)
        assert "cannot read" in result.stderr
        assert str(library) in result.stderr
