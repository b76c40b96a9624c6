"""What every command needs: the library folder and the store, found once per run."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from drillbook.config import find_library, require_library

if TYPE_CHECKING:  # imported when first used: keeps `drillbook --help` fast
    from drillbook.library.loader import Library
    from drillbook.storage.engine import Store


@dataclass
class CliState:
    library_option: Path | None = None
    _store: Store | None = field(default=None, repr=False)
    _closes_with: object = field(default=None, repr=False)

    def library_root(self, *, required: bool = True) -> Path | None:
        if required:
            return require_library(explicit=self.library_option)
        return find_library(explicit=self.library_option)

    def library(self, *, required: bool = False) -> Library:
        from drillbook.library.loader import load_library

        return load_library(self.library_root(required=required))

    def store(self) -> Store:
        if self._store is None:
            from drillbook.cli.output import print_error
            from drillbook.storage.engine import open_store

            # hold_output: a command's acknowledgement shows only once it is committed
            self._store = open_store(
                self.library_root(required=False), hold_output=True, on_wait=print_error
            )
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


def state(ctx: typer.Context) -> CliState:
    """The run's state, created by the root callback (or lazily in tests of one command).

    The store is closed with the command: a process running many commands (scripts and
    tests calling the app) must not keep a connection pool per command."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    if root.obj._closes_with is not root:
        root.call_on_close(root.obj.close)
        root.obj._closes_with = root
    return root.obj


def author(by: str | None) -> str:
    """Who made a change: ``--by``, else the logged-in user, else ``observer``."""
    if by:
        return by
    try:
        return os.environ.get("USER") or getpass.getuser()
    except (KeyError, OSError):
        return "observer"
