"""Entry point: the root options. Command modules are imported on demand (see
:data:`drillbook.cli.app.COMMANDS`), so ``drillbook --help`` and ``--version`` start at once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from drillbook import __version__
from drillbook.cli import fast_params
from drillbook.cli.app import app
from drillbook.cli.context import CliState

fast_params.install()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"drillbook {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    library_dir: Annotated[
        Path | None,
        typer.Option(
            "--library",
            "-L",
            help="Library folder (holds drillbook.yaml). Default: $DRILLBOOK_LIBRARY, or the "
            "nearest folder at or above the working directory.",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """drillbook: rehearse incidents before you have one."""
    ctx.obj = CliState(library_option=library_dir)


def main() -> None:
    app(prog_name="drillbook")


if __name__ == "__main__":
    main()
