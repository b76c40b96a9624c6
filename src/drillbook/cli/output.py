"""Shared terminal output: Rich consoles, tables, JSON for scripts.

The consoles are made on first use: a command that answers in JSON, or fails before it
prints, never imports Rich (a fifth of a warm ``detect run --json``'s start-up).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.table import Table


def _new_console(**options: Any) -> Console:
    from rich.console import Console, ConsoleDimensions

    class _Console(Console):
        """A console that honours ``COLUMNS`` as it is when printing, not when created.

        The consoles are module globals; a width set later (a test runner,
        `COLUMNS=200 drillbook ...` in a script wrapping this module) would otherwise be
        ignored."""

        @property
        def size(self) -> ConsoleDimensions:
            columns = os.environ.get("COLUMNS", "")
            if columns.isdigit() and not self.is_terminal:
                self._width = int(columns)
            return super().size

        @size.setter
        def size(self, new_size: tuple[int, int]) -> None:
            width, height = new_size
            self._width = width
            self._height = height

    return _Console(**options)


class _LazyConsole:
    """Stands for a Rich console and makes it on first use (see the module docstring)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._made: Console | None = None

    def made(self) -> Console:
        if self._made is None:
            self._made = _new_console(**self._options)
        return self._made

    def __getattr__(self, name: str) -> Any:
        return getattr(self.made(), name)


def real_console(stand_in: Console) -> Console:
    """The Rich console behind ``console`` or ``err_console``, for Rich's own classes
    that take one (``Live``), which may look further than its attributes."""
    return stand_in.made() if isinstance(stand_in, _LazyConsole) else stand_in


FullOpt = Annotated[
    bool,
    typer.Option("--full", help="Whole texts; without it long texts are clipped with '…'."),
]
"""Every command that clips text in a table takes ``--full`` (``--json`` is always whole)."""

# soft_wrap: a line of text (`path: ok (...)`, `F-001: resolved`) stays one line whatever
# the width, so scripts can grep it and a long path does not split a message; tables and
# panels still lay themselves out to the terminal's width.
console = cast("Console", _LazyConsole(highlight=False, soft_wrap=True))
err_console = cast("Console", _LazyConsole(stderr=True, highlight=False, soft_wrap=True))


def print_error(message: str) -> None:
    """Errors go to stderr, unstyled markup-wise (paths can contain brackets)."""
    # soft_wrap: a path:line:column message must stay on one line for editors and CI
    err_console.print(
        message, markup=False, soft_wrap=True, style="red" if message.startswith("error") else None
    )


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def print_json(data: Any) -> None:
    """Machine-readable output on stdout: one JSON document, nothing else."""
    sys.stdout.write(json.dumps(data, default=_default, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    from rich.table import Table

    out = Table(title=title, header_style="bold", expand=False)
    for column in columns:
        out.add_column(column, overflow="fold")
    for row in rows:
        out.add_row(*(cell(value) for value in row))
    return out


def cell(value: Any) -> RenderableType:
    """A table cell as plain text: scenario and finding text is the user's, and a
    ``[/]`` or ``[red]`` in it must print as written, never be read as Rich markup."""
    from rich.console import ConsoleRenderable
    from rich.text import Text

    if value is None:
        return Text("")
    if isinstance(value, ConsoleRenderable):
        return value  # already a renderable (styled on purpose by the caller)
    return Text(str(value))
