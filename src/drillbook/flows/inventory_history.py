"""Changes to ``inventory.yaml`` read from the library's git history.

The first seed: "Run an extra tabletop the quarter after you deploy a new agent at scale,
wire a new tool, or onboard a team that holds sensitive data." The inventory says what
exists; git says when it appeared. Each commit that touched ``inventory.yaml`` is compared
with the version before it (``git log`` and ``git show`` through subprocess, so no git
library is needed): a new agent, a new tool, or a new (or newly) sensitive team is one
:class:`InventoryChange`. The first version of the file is the baseline, not a change.
A version that does not parse is skipped (the next one is compared with the last good
one) and reported, so one bad commit in history does not hide the others.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from drillbook.errors import ConfigError

INVENTORY = "inventory.yaml"
GIT_TIMEOUT = 30


@dataclass(frozen=True)
class InventoryChange:
    kind: str  # new_agent | new_tool | sensitive_team
    name: str
    teams: tuple[str, ...]
    commit: str
    day: date
    subject: str

    @property
    def ref(self) -> str:
        return f"commit {self.commit[:12]}"


@dataclass
class InventoryHistory:
    changes: list[InventoryChange]
    skipped: list[str]  # commits whose inventory.yaml did not parse, with why
    tracked: bool  # False when the library is not in git (or git is missing)


def _git(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    git = shutil.which("git")
    if git is None:
        raise ConfigError("git is not installed; the schedule reads inventory changes from git")
    return subprocess.run(
        [git, "-C", str(root), *args],
        capture_output=True,
        text=True,
        timeout=GIT_TIMEOUT,
        check=False,
    )


def _names(document: Any, section: str, key: str = "name") -> dict[str, dict[str, Any]]:
    items = document.get(section) if isinstance(document, dict) else None
    out: dict[str, dict[str, Any]] = {}
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get(key), str):
            out[item[key]] = item
    return out


def _tool_teams(document: Any, tool: str) -> tuple[str, ...]:
    teams = {
        str(agent["team"])
        for agent in _names(document, "agents").values()
        if tool in (agent.get("tools") or []) and agent.get("team")
    }
    return tuple(sorted(teams))


def compare(before: Any, after: Any, commit: str, day: date, subject: str) -> list[InventoryChange]:
    """What ``after`` adds to ``before`` (two parsed inventory documents)."""
    found: list[InventoryChange] = []
    old_agents, new_agents = _names(before, "agents"), _names(after, "agents")
    for name in sorted(set(new_agents) - set(old_agents)):
        team = new_agents[name].get("team")
        teams = (str(team),) if team else ()
        found.append(InventoryChange("new_agent", name, teams, commit, day, subject))
    old_tools, new_tools = _names(before, "tools"), _names(after, "tools")
    for name in sorted(set(new_tools) - set(old_tools)):
        found.append(
            InventoryChange("new_tool", name, _tool_teams(after, name), commit, day, subject)
        )
    old_teams, new_teams = _names(before, "teams", "id"), _names(after, "teams", "id")
    for name, team in sorted(new_teams.items()):
        was = old_teams.get(name, {})
        if team.get("sensitive_data") is True and was.get("sensitive_data") is not True:
            found.append(InventoryChange("sensitive_team", name, (name,), commit, day, subject))
    return found


def inventory_history(root: Path, path: str = INVENTORY) -> InventoryHistory:
    """Every inventory change in the history of ``root`` (oldest first)."""
    inside = _git(root, "rev-parse", "--is-inside-work-tree")
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return InventoryHistory([], [], tracked=False)
    log = _git(root, "log", "--reverse", "--format=%H%x09%cI%x09%s", "--", path)
    if log.returncode != 0:
        # a repository without commits yet has no history to read
        return InventoryHistory([], [], tracked=True)
    changes: list[InventoryChange] = []
    skipped: list[str] = []
    previous: Any = None
    seen_first = False
    for line in log.stdout.splitlines():
        commit, stamp, subject = [*line.split("\t", 2), "", ""][:3]
        day = datetime.fromisoformat(stamp).date()
        shown = _git(root, "show", f"{commit}:./{path}")
        if shown.returncode != 0:
            current: Any = {}  # the file was deleted in this commit
        else:
            try:
                current = yaml.safe_load(shown.stdout) or {}
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                where = f" line {mark.line + 1}" if mark is not None else ""
                skipped.append(f"commit {commit[:12]}: {path}{where} does not parse; skipped")
                continue
        if seen_first:
            changes.extend(compare(previous, current, commit, day, subject))
        previous, seen_first = current, True
    return InventoryHistory(changes, skipped, tracked=True)
