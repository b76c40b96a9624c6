"""Every file the CLI reads or writes goes through here: ``-`` is standard input or
output, and an ``OSError`` (a folder where a file is wanted, no permission, a missing or
read-only folder, ``/proc``) becomes one :class:`~drillbook.errors.FileAccessError`
naming the path, exit 1, never a traceback.

Commands declare ``-o`` with :data:`OutputOption`, so the help text and the ``-`` rule
are the same everywhere.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from drillbook.errors import FileAccessError, UsageError

STDIO = "-"


OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write to FILE instead of standard output ('-' is standard output).",
        show_default=False,
    ),
]


def is_stdio(path: Path | str | None) -> bool:
    return path is None or str(path) == STDIO


def write_output(target: Path | str | None, content: str | bytes) -> Path | None:
    """Write ``content`` to ``target`` (None or ``-``: standard output); the folder is
    created. Returns the path written, or None for standard output."""
    if is_stdio(target):
        if isinstance(content, bytes):
            if sys.stdout.isatty():
                raise UsageError("this output is binary; give -o FILE, or pipe it")
            sys.stdout.flush()
            sys.stdout.buffer.write(content)
            sys.stdout.buffer.flush()
        else:
            sys.stdout.write(content)
            sys.stdout.flush()
        return None
    path = Path(str(target))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise FileAccessError(path, "write", exc) from None
    return path


def read_input(source: Path | str) -> str:
    """The text of ``source`` (``-``: standard input), UTF-8."""
    if str(source) == STDIO:
        return sys.stdin.read()
    path = Path(str(source))
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise FileAccessError(
            path, "read", OSError(0, "not UTF-8 text; save it as UTF-8")
        ) from None
    except OSError as exc:
        raise FileAccessError(path, "read", exc) from None


def read_bytes(source: Path | str) -> bytes:
    if str(source) == STDIO:
        return sys.stdin.buffer.read()
    path = Path(str(source))
    try:
        return path.read_bytes()
    except OSError as exc:
        raise FileAccessError(path, "read", exc) from None
