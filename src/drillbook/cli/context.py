"""What every command needs: the library folder and the store, found once per run."""

from __future__ import annotations

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


def state(ctx: typer.Context) -> CliState:
    """The run's state, created by the root callback (or lazily in tests of one command)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj
