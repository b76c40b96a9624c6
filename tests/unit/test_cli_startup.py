"""The CLI starts at once: `--help` and `--version` import no heavy library, and the table
that makes that possible (:data:`drillbook.cli.app.COMMANDS`) matches what the command
modules really register."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest
import typer.main
from typer.testing import CliRunner

from drillbook.cli import app as app_module
from drillbook.cli.app import COMMANDS, load_all_commands
from drillbook.cli.main import app

HEAVY = ("sqlalchemy", "fastapi", "pydantic", "sigma", "alembic", "jinja2", "httpx", "evtx")

_PROBE = """
import json, sys
sys.argv = ["drillbook", *json.loads(sys.argv[1])]
from drillbook.cli.main import main
try:
    main()
except SystemExit:
    pass
print("\\nMODULES=" + json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


def _top_level_modules_after(args: list[str]) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    marker = done.stdout.rsplit("MODULES=", 1)[1]
    return set(json.loads(marker))


@pytest.mark.parametrize("args", [["--help"], ["--version"], []])
def test_help_and_version_import_no_heavy_library(args: list[str]) -> None:
    loaded = _top_level_modules_after(args)
    assert "typer" in loaded  # the probe really ran the CLI
    assert not loaded & set(HEAVY), f"drillbook {' '.join(args)} imported {loaded & set(HEAVY)}"


def test_scenario_list_needs_the_models_and_nothing_else_heavy() -> None:
    """Listing scenarios reads and validates YAML (pydantic) but opens no store, web app,
    Sigma engine or HTTP client."""
    loaded = _top_level_modules_after(["scenario", "list"])
    assert "pydantic" in loaded
    assert not loaded & (set(HEAVY) - {"pydantic"})


def test_help_lists_every_word_with_its_help(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for name, entry in COMMANDS.items():
        assert name in result.output
        assert entry.help in result.output


def test_the_table_matches_what_the_modules_register() -> None:
    """Import every command module: each root command and noun group it registers is in
    COMMANDS, under the module COMMANDS names, with the help COMMANDS shows."""
    for entry in COMMANDS.values():
        for module in entry.modules:
            importlib.import_module(module)
    root = typer.main.get_command(app)
    registered_root = set(getattr(root, "commands", {}))
    table_root = {name for name, entry in COMMANDS.items() if entry.group is None}
    assert registered_root == table_root
    groups = {
        name: value
        for name, value in vars(app_module).items()
        if name.endswith("_app") and isinstance(value, typer.Typer)
    }
    assert {e.group for e in COMMANDS.values() if e.group} == set(groups)
    for name, command in load_all_commands().items():
        first_paragraph = (command.help or "").strip().split("\n\n")[0]
        assert " ".join(first_paragraph.split()) == COMMANDS[name].help, name
        if COMMANDS[name].group:
            assert getattr(command, "commands", None), f"group {name} has no commands"


def test_a_command_module_is_loaded_only_for_its_word() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys\n"
            "from drillbook.cli.app import load_command\n"
            "load_command('schema')\n"
            "print('drillbook.cli.drill' in sys.modules, 'drillbook.cli.library' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.split() == ["False", "True"]


def test_an_os_error_nobody_expected_is_one_line_not_a_traceback(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    """Whatever the system refuses deep inside a command (a full disk, a permission)
    reaches the user as one line naming the file, exit 1."""
    import drillbook.cli.library as library_cli

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", "/srv/library/drillbook.yaml")

    monkeypatch.setattr(library_cli, "scaffold", refuse)
    result = runner.invoke(app, ["init", str(tmp_path)])
    assert result.exit_code == 1
    assert "error: /srv/library/drillbook.yaml: Permission denied" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_detect_run_parses_its_options_without_pydantic(tmp_path: object) -> None:
    """Plain ``str``/``bool``/``Path`` options skip typer's pydantic adapters, and JSON
    output needs no Rich console: matching recorded events needs nothing heavy but the
    Sigma engine."""
    from tests.helpers import FILES

    rule = FILES / "detection" / "rules"
    events = FILES / "detection" / "t1082-uname.jsonl"
    loaded = _top_level_modules_after(
        ["detect", "run", "--rules", str(rule), "--events", str(events), "--json"]
    )
    assert "sigma" in loaded  # it ran
    assert "pydantic" not in loaded
    assert "rich" not in loaded  # JSON out: the consoles are never made


def test_plain_options_keep_typer_s_meaning(runner: CliRunner, tmp_path: object) -> None:
    """The direct coercion gives what typer's gives: a Path for a path, text for text,
    and options it does not handle (numbers, choices) keep typer's checks and words."""
    from drillbook.cli import fast_params

    assert fast_params.install()  # installed once at import; a second call is harmless
    wide = {"COLUMNS": "200"}
    bad_number = runner.invoke(app, ["finding", "list", "--limit", "many"], env=wide)
    assert bad_number.exit_code == 2
    assert "Invalid value for '--limit'" in bad_number.output
    missing = runner.invoke(
        app, ["detect", "run", "--rules", "no/such/rules", "--events", "x"], env=wide
    )
    assert missing.exit_code == 1
    assert "no/such/rules: no such rule file or folder" in missing.output


def test_without_typer_s_hook_typer_is_left_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer import core

    from drillbook.cli import fast_params

    monkeypatch.delattr(core, "build_runtime_param")
    assert fast_params.install() is False
