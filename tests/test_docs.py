"""Docs stay true: every CLI command and every setting is described in docs/ or README."""

from __future__ import annotations

import pytest

from drillbook.cli.app import load_all_commands
from drillbook.config import SETTINGS
from tests.helpers import ROOT


def _docs_text() -> str:
    pages = sorted((ROOT / "docs").glob("*.md"))
    return "\n".join(p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *pages])


def _command_paths() -> list[str]:
    paths: list[str] = []

    def walk(command: object, prefix: str) -> None:
        children = getattr(command, "commands", None)
        if children is not None:
            for name, sub in children.items():
                if not getattr(sub, "hidden", False):
                    walk(sub, f"{prefix} {name}".strip())
        else:
            paths.append(prefix)

    for name, command in load_all_commands().items():
        walk(command, name)
    return sorted(paths)


def test_there_are_commands_to_check() -> None:
    assert "tour" in _command_paths()


@pytest.mark.parametrize("command", _command_paths())
def test_every_command_is_documented(command: str) -> None:
    assert f"drillbook {command}" in _docs_text(), (
        f"`drillbook {command}` is not mentioned in README.md or docs/*.md"
    )


@pytest.mark.parametrize("name", [s.name for s in SETTINGS])
def test_every_setting_is_documented(name: str) -> None:
    assert name in _docs_text(), f"setting {name} is not described in docs/"
