"""What every tool needs: the library, the store, who is acting, and the input guards.

The agent on the other end is treated like any user input: ids are matched against a
strict pattern, free text is bounded, and names of library files are resolved only
inside the library (no paths). A :class:`DrillbookError` becomes a clean tool error with
the same message the CLI prints; anything else is the SDK's generic tool failure.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import Field

from drillbook.domain.account.enums import AccountRole
from drillbook.errors import AccessDenied, DrillbookError, LibraryError, NotFoundError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from drillbook.domain.account.access import Principal
    from drillbook.domain.exercise.models import Exercise
    from drillbook.library.loader import Library
    from drillbook.storage.engine import Store

AUDIT = logging.getLogger("drillbook.mcp.audit")
"""Refused calls, with the agent's identity (also written to the store's audit log)."""


@dataclass(frozen=True)
class Caller:
    """Who is calling over HTTP: the account behind an API token, and the client (agent)
    the token was issued for. Over stdio there is no caller: whoever can start the server
    with the library's files is trusted, as the CLI trusts them."""

    principal: Principal
    client: str
    token_id: int
    remote: str | None = None

    @property
    def identity(self) -> str:
        """How the timeline and the audit log name the agent: account and client."""
        return f"{self.principal.username} via {self.client}"


@dataclass
class CallRecord:
    """What one call did, filled in while it runs (refusals), read when it is audited."""

    refusals: list[str] = field(default_factory=list)


CALLER: ContextVar[Caller | None] = ContextVar("drillbook_mcp_caller", default=None)
"""The HTTP caller of the call being served (set per request; never shared between calls)."""
CALL: ContextVar[CallRecord | None] = ContextVar("drillbook_mcp_call", default=None)

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

_READ = (
    "inventory_show scenario_list scenario_show scenario_lint exercise_plan exercise_status "
    "exercise_timeline finding_rank drill_validate scorecard_list scorecard_read"
)
_RECORD = "exercise_decide exercise_note exercise_observe finding_draft scenario_generate"
_FACILITATE = (
    "exercise_create exercise_brief exercise_start exercise_pause exercise_resume "
    "exercise_end exercise_phase exercise_inject exercise_report followup"
)
TOOL_ROLES: dict[str, AccountRole] = {
    **dict.fromkeys(_READ.split(), AccountRole.VIEWER),
    **dict.fromkeys(_RECORD.split(), AccountRole.MEMBER),
    **dict.fromkeys(_FACILITATE.split(), AccountRole.FACILITATOR),
    "drill_run": AccountRole.ADMIN,
}
"""The least role each tool needs over HTTP; a tool not named here needs an admin."""

P = ParamSpec("P")
R = TypeVar("R")


class McpContext:
    """The library the server was started in, and who its calls act for: over stdio the
    ``--agent`` (and ``--team``) it was started with; over HTTP the :class:`Caller` of
    each call (set per request by :mod:`drillbook.mcp.http`).

    ``server_team`` is ``--team``: the only team whose exercises and fixes a stdio agent
    sees. ``owns_store`` is False when the web app lent its store (the web app closes it).
    """

    def __init__(
        self,
        root: Path | None,
        agent: str = "mcp-agent",
        allow_drills: bool = False,
        team: str | None = None,
        store: Store | None = None,
        write_lock: AbstractContextManager[object] | None = None,
    ) -> None:
        self.root = root
        self.write_lock = write_lock
        self.agent_name = agent
        self.allow_drills = allow_drills
        self.server_team = team
        self._store = store
        self.owns_store = store is None

    @property
    def caller(self) -> Caller | None:
        return CALLER.get()

    @property
    def agent(self) -> str:
        """The author of what this call logs: the HTTP caller's identity, else ``--agent``."""
        caller = self.caller
        return caller.identity if caller is not None else self.agent_name

    @property
    def team(self) -> str | None:
        """The team this call is confined to (None: every team). Over HTTP: the account's
        team, unless it is an admin's."""
        caller = self.caller
        if caller is None:
            return self.server_team
        return None if caller.principal.is_admin else caller.principal.team

    @property
    def principal(self) -> Principal | None:
        caller = self.caller
        return caller.principal if caller is not None else None

    def library(self) -> Library:
        """Read fresh on each call: a scenario the agent just generated is visible at once."""
        from drillbook.library.loader import load_library

        return load_library(self.root)

    def store(self) -> Store:
        if self._store is None:
            from drillbook.storage.engine import open_store

            self._store = open_store(self.root)
        return self._store

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work on the store. Behind the web app on SQLite it waits for the
        web writers' turn (the web app's write lock): an agent's write and a browser's
        must not meet in one WAL (the second would fail "database is locked")."""
        store = self.store()
        if self.write_lock is None or store.engine.dialect.name != "sqlite":
            with store.session() as session:
                yield session
            return
        with self.write_lock, store.session() as session:
            yield session

    def require_root(self) -> Path:
        if self.root is None:
            raise NotFoundError("the MCP server runs outside a library; start it in one")
        return self.root

    def exercise(self, session: Session, exercise_id: str) -> Exercise:
        """The exercise, when this server's team may see it; another team's is "not found"
        (its existence is not confirmed) and the refusal is logged."""
        from drillbook.domain.exercise import service

        exercise = service.get_exercise(session, exercise_id)
        principal = self.principal
        if principal is not None:
            from drillbook.domain.account.access import can_see_exercise

            if not can_see_exercise(principal, exercise):
                self.refused(f"exercise {exercise.label} of team {exercise.team or '(none)'}")
                raise NotFoundError(f"no exercise {exercise.label} for team {self.team}")
        elif self.team is not None and exercise.team != self.team:
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
        """Note a refusal: logged at once, and written to the audit log with the call."""
        AUDIT.warning("refused: agent %s (team %s) asked for %s", self.agent, self.team, what)
        record = CALL.get()
        if record is not None:
            record.refusals.append(f"asked for {what}")

    def authorise(self, tool: str, arguments: Mapping[str, object] | None = None) -> None:
        """The role a call needs over HTTP (the web API's rules: viewers read, members log
        decisions and notes, facilitators run exercises, admins detonate drills). Asking
        the model (``use_model``) needs a member, writing a scenario into the library
        (``scenario_generate`` with ``save``) a facilitator. Over stdio every tool is
        allowed, as every CLI command is."""
        principal = self.principal
        if principal is None:
            return
        given = arguments or {}
        needed = TOOL_ROLES.get(tool, AccountRole.ADMIN)
        if given.get("use_model") is True and not needed.at_least(AccountRole.MEMBER):
            needed = AccountRole.MEMBER
        if tool == "scenario_generate" and given.get("save") is True:
            needed = AccountRole.FACILITATOR
        if not principal.at_least(needed):
            self.refused(f"tool {tool} (needs {needed})")
            raise AccessDenied(
                f"{tool} needs the {needed} role; account {principal.username} is a "
                f"{principal.role}"
            )

    @contextmanager
    def serving(self, caller: Caller | None) -> Iterator[CallRecord]:
        """Run one call as ``caller`` (None over stdio), collecting its refusals."""
        record = CallRecord()
        caller_token = CALLER.set(caller) if caller is not None else None
        call_token = CALL.set(record)
        try:
            yield record
        finally:
            CALL.reset(call_token)
            if caller_token is not None:
                CALLER.reset(caller_token)

    def audit(self, action: str, target: str | None, detail: dict[str, object]) -> None:
        """One line in the store's append-only audit log, with the agent's identity."""
        from drillbook.domain.account.service import audit

        caller = self.caller
        if caller is not None:
            actor = caller.identity
            detail = {"account": caller.principal.username, "client": caller.client, **detail}
        else:
            actor = f"{self.agent_name} (stdio)"
            detail = {"client": self.agent_name, "team": self.server_team, **detail}
        with self.session() as session:
            audit(
                session,
                actor=actor,
                action=action,
                target=target,
                remote=caller.remote if caller is not None else None,
                detail={"transport": "http" if caller else "stdio", **detail},
            )

    def close(self) -> None:
        if self._store is not None and self.owns_store:
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
