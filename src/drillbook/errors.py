"""One error tree for the whole tool.

Every error drillbook raises on purpose derives from :class:`DrillbookError`; the CLI and
the web app catch that one class, print its message and exit non-zero, so a user never
sees a traceback for a mistake in their input::

    DrillbookError
    ├── LibraryError            bad YAML in the user's library: carries every Problem found
    ├── NotFoundError           an id or name that does not exist (scenario, exercise, ...)
    ├── ConflictError           an operation that would overwrite or contradict stored data
    ├── StateError              an operation not allowed in the record's current state
    ├── AccessDenied            signed out, wrong password, or a role that may not do it
    ├── ConfigError             a missing or invalid setting
    ├── UsageError              a bad flag or argument value (exit 2, like a parse error)
    ├── FileAccessError         a file the CLI reads or writes cannot be (names the path)
    ├── StoreError              the store cannot be used: damaged, read-only, locked,
    │                           unreachable, or written by a newer drillbook
    ├── SafetyRefusal           a drill step the safety profile does not allow
    └── AdapterError            an outside system (SIEM, tracker, webhook, stratus) failed

Library problems carry a :class:`Location` so that messages read ``path:line:column:
message`` like a compiler's, which editors and CI annotate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Level = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Location:
    """Where in a file a problem is: 1-based line and column, as editors count."""

    path: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if self.line <= 0:
            return self.path
        return f"{self.path}:{self.line}:{max(self.column, 1)}"

    @classmethod
    def of(cls, path: str | Path, line: int = 0, column: int = 0) -> Location:
        return cls(str(path), line, column)


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a reviewer's look) in a library file."""

    location: Location
    message: str
    code: str = "invalid"
    level: Level = "error"

    def __str__(self) -> str:
        prefix = "" if self.level == "error" else "warning: "
        return f"{self.location}: {prefix}{self.message} [{self.code}]"

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.location.path,
            "line": self.location.line,
            "column": self.location.column,
            "level": self.level,
            "code": self.code,
            "message": self.message,
        }


class DrillbookError(Exception):
    """Base of every error drillbook raises on purpose. ``exit_code`` is what the CLI returns."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


@dataclass
class _ProblemList:
    problems: list[Problem] = field(default_factory=list)


class LibraryError(DrillbookError):
    """One or more problems in library files; all of them are reported at once."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems, key=lambda p: (p.location, p.message))
        super().__init__("\n".join(str(p) for p in self.problems) or "invalid library")

    @classmethod
    def single(cls, location: Location, message: str, code: str = "invalid") -> LibraryError:
        return cls([Problem(location, message, code)])


class NotFoundError(DrillbookError):
    """An id or name the user gave does not exist."""


class ConflictError(DrillbookError):
    """The operation would overwrite or contradict data already stored."""


class StateError(DrillbookError):
    """The operation is not allowed in the record's current state (e.g. ending a planned run)."""


class AccessDenied(DrillbookError):
    """Not signed in, a wrong password, an expired invitation, or a role that may not act."""


class ConfigError(DrillbookError):
    """A setting is missing or invalid."""


class UsageError(DrillbookError):
    """A flag or argument value the command cannot use (``--date tomorrow``). Exits 2, as
    the command-line parser does for an unknown flag, so scripts tell a typo from a
    refused operation (exit 1)."""

    exit_code = 2


class FileAccessError(DrillbookError):
    """A file drillbook was asked to read or write cannot be: a folder where a file is
    wanted, no permission, a missing or read-only folder. Names the path and the reason."""

    def __init__(self, path: str | Path, action: str, error: OSError) -> None:
        self.path = str(path)
        reason = error.strerror or str(error)
        if isinstance(error, IsADirectoryError):
            reason = "it is a folder; give a file name"
        elif isinstance(error, NotADirectoryError):
            reason = "a part of the path is a file, not a folder"
        elif isinstance(error, PermissionError):
            reason = "permission denied"
        elif isinstance(error, FileNotFoundError):
            reason = "no such file or folder"
        super().__init__(f"cannot {action} {self.path}: {reason}")


class StoreError(DrillbookError):
    """The store cannot be used as asked. The message names the file (or server) and what
    to do; nothing was written. ``retry_later`` marks a passing condition (a lock held by
    another process, a server not answering) as opposed to damage or version skew."""

    def __init__(self, message: str, *, retry_later: bool = False) -> None:
        super().__init__(message)
        self.retry_later = retry_later


class SafetyRefusal(DrillbookError):
    """The safety profile does not allow a drill step; ``reason`` says which rule refused it."""

    def __init__(self, technique: str, reason: str) -> None:
        self.technique = technique
        self.reason = reason
        super().__init__(f"{technique}: refused by the safety profile: {reason}")


class AdapterError(DrillbookError):
    """An outside system failed. Says which system, which call, and what to check."""

    def __init__(self, system: str, call: str, detail: str, hint: str = "") -> None:
        self.system = system
        self.call = call
        self.detail = detail
        self.hint = hint
        text = f"{system}: {call} failed: {detail}"
        if hint:
            text += f" (check: {hint})"
        super().__init__(text)
