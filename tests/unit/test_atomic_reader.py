"""Reading Atomic Red Team atomics in their own format, from the shared corpus."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.errors import LibraryError, NotFoundError
from drillbook.executors.atomics import AtomicsFolder, interpolate
from tests.helpers import shared_data


@pytest.fixture
def atomics() -> Path:
    return shared_data() / "atomic-red-team" / "atomics"


def test_find_by_number_name_and_guid(atomics: Path) -> None:
    folder = AtomicsFolder(atomics)
    by_number = folder.find("T1082", 3)
    assert by_number.key == "T1082-3"
    assert folder.find("T1082", "List OS Information").key == "T1082-3"
    assert folder.find("T1082", "cccb070c-df86-4216-a5bc-9fb60c74e27c").key == "T1082-3"
    with pytest.raises(NotFoundError, match="no test 99"):
        folder.find("T1082", 99)
    with pytest.raises(NotFoundError, match="not found"):
        folder.find("T9999", 1)


def test_interpolation_with_defaults_and_overrides(atomics: Path) -> None:
    ref = AtomicsFolder(atomics).find("T1082", 3)
    command = ref.render(ref.test.executor.command, {}, atomics) or ""
    assert "uname -a >> /tmp/T1082.txt" in command
    assert "#{" not in command
    custom = ref.render(ref.test.executor.cleanup_command, {"output_file": "/tmp/o.txt"}, atomics)
    assert custom is not None
    assert "rm /tmp/o.txt" in custom
    with pytest.raises(NotFoundError, match="unknown input argument"):
        ref.arguments({"nope": 1}, atomics)


def test_path_to_atomics_folder() -> None:
    text = interpolate(
        "bash #{script}", {"script": "PathToAtomicsFolder/T1/src/x.sh"}, Path("/opt/atomics")
    )
    assert text == "bash /opt/atomics/T1/src/x.sh"
    assert interpolate("$PathToAtomicsFolder/a #{missing}", {}, Path("/a")) == "/a/a #{missing}"


def test_runnable_reasons(atomics: Path) -> None:
    folder = AtomicsFolder(atomics)
    assert folder.find("T1082", 1).runnable_reason() == "supports windows, not linux"
    assert folder.find("T1082", 3).runnable_reason() is None
    powershell = folder.find("T1070.003", 11)
    assert "not linux" in (powershell.runnable_reason() or "")
    assert "executor 'powershell'" in (powershell.runnable_reason("windows") or "")


def test_bad_atomic_file_is_a_located_error(tmp_path: Path) -> None:
    (tmp_path / "T1000").mkdir()
    (tmp_path / "T1000" / "T1000.yaml").write_text(
        "attack_technique: T1000\natomic_tests:\n- name: x\n  supported_platforms: [linux]\n"
    )
    with pytest.raises(LibraryError, match=r"T1000.yaml:3:.*executor"):
        AtomicsFolder(tmp_path).tests("T1000")


def test_missing_atomics_folder_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="DRILLBOOK_ATOMICS_PATH"):
        AtomicsFolder(tmp_path / "nothing").technique_ids()


def test_list_techniques_shows_why(
    atomics: Path, runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    done = runner.invoke(app, ["drill", "list-techniques", "--atomics", str(atomics), "--json"])
    assert done.exit_code == 0, done.output
    rows = {r["test"]: r for r in json.loads(done.stdout)}
    assert rows["T1082-3"]["runnable"] is True
    assert rows["T1082-3"]["default_profile"] == "allowed"
    assert rows["T1082-1"]["runnable"] is False
    assert "windows" in rows["T1082-1"]["reason"]
    # the default profile runs in the sandbox: the text only explains ...
    assert rows["T1059.004-1"]["default_profile"] == "allowed"
    assert "would need network (ping)" in rows["T1059.004-1"]["explanation"]
    # ... and a declared elevation_required still refuses
    assert "elevation" in rows["T1082-4"]["default_profile"]
    table = runner.invoke(
        app, ["drill", "list-techniques", "--atomics", str(atomics), "-t", "T1087.001"]
    )
    assert table.exit_code == 0
    assert "T1087.0" in table.stdout
    assert "Enumerate" in table.stdout
    monkeypatch.setenv("DRILLBOOK_ATOMICS_PATH", str(atomics))
    env = runner.invoke(app, ["drill", "list-techniques", "--runnable", "--json"])
    assert all(r["runnable"] for r in json.loads(env.stdout))


def test_atomics_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from drillbook.flows.drill_run import resolve_atomics

    library = tmp_path / "lib"
    library.mkdir()
    (library / "drillbook.yaml").write_text("organisation: Acme\natomics_path: vendor/atomics\n")
    explicit = tmp_path / "explicit"
    assert resolve_atomics(explicit, library) == explicit
    assert resolve_atomics(None, library) == library / "vendor" / "atomics"
    monkeypatch.setenv("DRILLBOOK_ATOMICS_PATH", str(tmp_path / "env"))
    assert resolve_atomics(None, None) == tmp_path / "env"
    monkeypatch.delenv("DRILLBOOK_ATOMICS_PATH")
    home = Path(os.environ["HOME"])
    assert resolve_atomics(None, None) == home / "AtomicRedTeam" / "atomics"
