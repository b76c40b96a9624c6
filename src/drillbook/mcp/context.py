"""What every tool needs: the library, the store, who is acting, and the input guards.

The agent on the other end is treated like any user input: ids are matched against a
strict pattern, free text is bounded, and names of library files are resolved only
inside the library (no paths). A :class:`DrillbookError` becomes a clean tool error with
the same message the CLI prints; anything else is the SDK's generic tool failure.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from drillbook.errors import DrillbookError, LibraryError, NotFoundError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from drillbook.domain.exercise.models import Exercise
    from drillbook.library.loader import Library
    from drillbook.storage.engine import Store

AUDIT = logging.getLogger("drillbook.mcp.audit")
"""Refused calls, with the agent's identity (the web app's audit log takes these later)."""

MAX_TEXT = 4000
"""Longest decision, note or inject text an agent may log (a paragraph, not a file)."""

ExerciseId = Annotated[
    str,
    Field(
        pattern=r"^(?:EX-)?[0-9]{1,9}$",
        max_length=12,
        description="Exercise id: 3 or EX-3.",
    ),
]
Name = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$",
        max_length=128,
        description="An id or name from the library (letters, digits, . _ -).",
    ),
]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT)]
Person = Annotated[
    str, Field(pattern=r"^[^\x00-\x1f]{1,80}$", description="A person's name or login.")
]

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class McpContext:
    """The library the server was started in, and the identity its calls are logged under."""

    root: Path | None
    agent: str = "mcp-agent"
    allow_drills: bool = False
    team: str | None = None
    """With ``--team``: the only team whose exercises and fixes the agent sees."""
    _store: Store | None = field(default=None, repr=False)

    def library(self) -> Library:
        """Read fresh on each call: a scenario the agent just generated is visible at once."""
        from drillbook.library.loader import load_library

        return load_library(self.root)

    def store(self) -> Store:
        if self._store is None:
            from drillbook.storage.engine import open_store

            self._store = open_store(self.root)
        return self._store

    def require_root(self) -> Path:
        if self.root is None:
            raise NotFoundError("the MCP server runs outside a library; start it in one")
        return self.root

    def exercise(self, session: Session, exercise_id: str) -> Exercise:
        """The exercise, when this server's team may see it; another team's is "not found"
        (its existence is not confirmed) and the refusal is logged."""
        from drillbook.domain.exercise import service

        exercise = service.get_exercise(session, exercise_id)
        if self.team is not None and exercise.team != self.team:
            self.refused(f"exercise {exercise.label} of team {exercise.team or '(none)'}")
            raise NotFoundError(f"no exercise {exercise.label} for team {self.team}")
        return exercise

    def scoped_team(self, asked: str | None) -> str | None:
        """The team a call acts for: the server's own when it is scoped to one."""
        if self.team is None:
            return asked
        if asked is not None and asked != self.team:
            self.refused(f"team {asked}")
            raise NotFoundError(f"this server is scoped to team {self.team}, not {asked}")
        return self.team

    def refused(self, what: str) -> None:
        AUDIT.warning("refused: agent %s (team %s) asked for %s", self.agent, self.team, what)

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def tool_errors(fn: Callable[P, R]) -> Callable[P, R]:
    """Report drillbook's own errors to the agent as tool errors with their message."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except LibraryError as exc:
            raise ToolError("; ".join(str(p) for p in exc.problems)) from None
        except DrillbookError as exc:
            raise ToolError(str(exc)) from None

    return wrapper


def inside(folder: Path, name: str, suffixes: tuple[str, ...]) -> Path:
    """``folder/name`` (with one of ``suffixes``) when it is a file inside ``folder``;
    NotFoundError otherwise. ``name`` is already a plain :data:`Name`, and the resolved
    path is checked again so a symlink cannot lead out of the library."""
    base = folder.resolve()
    for suffix in ("", *suffixes):
        candidate = (folder / f"{name}{suffix}").resolve()
        if candidate.is_file() and candidate.is_relative_to(base):
            return candidate
    raise NotFoundError(f"no {name!r} in {folder.name}/")
