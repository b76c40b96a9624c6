"""Files below a folder, chosen and ordered as ``sorted(folder.rglob("*"))`` would.

``os.scandir`` tells a file from a folder by its directory entry, where ``Path.rglob``
followed by ``Path.is_file`` makes a system call or two per file and builds a path object
for every entry: walking SigmaHQ's 2,400 Windows rules took a warm run three hundredths
of a second that way, a few thousandths this way.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator
from pathlib import Path


def files_below(folder: Path, suffixes: Collection[str] | None = None) -> list[Path]:
    """Every file below ``folder`` (with one of ``suffixes``, as ``Path.suffix`` reads
    them, when given), hidden ones too, in ``Path`` order (part by part). As
    ``Path.rglob``, links to folders are not followed, links to files are kept, and a
    folder that may not be read is passed over."""
    found = _walk(str(folder), suffixes)
    return [Path(name) for name in sorted(found, key=_parts)]


def _walk(folder: str, suffixes: Collection[str] | None) -> Iterator[str]:
    try:
        with os.scandir(folder) as entries:
            listed = list(entries)
    except PermissionError:
        return
    for entry in listed:
        if entry.is_dir() and not entry.is_symlink():
            yield from _walk(entry.path, suffixes)
        elif (suffixes is None or _suffix(entry.name) in suffixes) and entry.is_file():
            yield entry.path


def _suffix(name: str) -> str:
    """``Path(name).suffix``: from the last dot, unless the name starts or ends there."""
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


def _parts(name: str) -> list[str]:
    """How :class:`Path` orders paths: part by part (case-insensitively on Windows)."""
    return os.path.normcase(name).split(os.sep)
