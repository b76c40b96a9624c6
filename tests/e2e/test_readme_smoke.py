"""The README's run command works the way a new user runs it: from a clean copy of the
project, non-interactively, and shows the walk-through."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import ROOT, require


def _readme_command(kind: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Two commands.*?```sh\n(.*?)```", text, re.S)
    assert block, "README has no 'Two commands' block"
    for line in block.group(1).splitlines():
        command = line.split("#", 1)[0].strip()
        if command.endswith(kind):
            return command
    raise AssertionError(f"README's two commands have no '{kind}' command")


def _clean_copy(target: Path) -> None:
    """What a fresh clone holds: the tracked files and the new, not ignored ones."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def test_readme_names_both_commands() -> None:
    assert _readme_command("run") == "make run"
    assert _readme_command("test") == "make test"


@pytest.mark.slow
def test_readme_run_command_from_a_clean_copy(tmp_path: Path) -> None:
    require(shutil.which("make") is not None, "make is not installed")
    require(shutil.which("git") is not None and (ROOT / ".git").exists(), "not a git checkout")
    project = tmp_path / "drillbook"
    _clean_copy(project)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DRILLBOOK_", "VIRTUAL_ENV"))}
    env["HOME"] = str(tmp_path / "home")
    env["TMPDIR"] = str(tmp_path)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    done = subprocess.run(
        _readme_command("run").split(),
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert "Tour complete" in output
    for shown in ("drillbook init", "drillbook --library", "lint", "scenario list"):
        assert shown in output, f"the tour did not show {shown!r}"
