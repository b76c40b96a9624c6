"""Commands: init, lint, schema (on the root ``drillbook`` command)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from drillbook import clock
from drillbook.cli.app import app
from drillbook.cli.context import state
from drillbook.cli.output import console, err_console, print_json
from drillbook.config import DATA_DIR, DATABASE_FILE, setting
from drillbook.errors import ConfigError
from drillbook.library.lint import LintReport, lint_library
from drillbook.library.scaffolding import scaffold
from drillbook.library.schema import SCHEMAS, json_schema, schema_names
from drillbook.storage.engine import Store, open_store


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


@app.command("init")
def init(
    directory: Annotated[
        Path, typer.Argument(help="Folder for the new library (created if missing).")
    ] = Path("."),
    from_builtin: Annotated[
        list[str] | None,
        typer.Option(
            "--from-builtin",
            help="Copy this built-in scenario (repeatable). "
            "Default: the gentlest built-in, for a first tabletop.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite an existing drillbook.yaml.")
    ] = False,
) -> None:
    """Scaffold a library: drillbook.yaml, inventory.yaml, scenarios/, drills/, .gitignore."""
    result = scaffold(directory, builtin_ids=list(from_builtin or []), force=force)
    console.print(f"[bold green]Created a drillbook library in {result.root}[/bold green]")
    for path in result.written:
        console.print(f"  wrote {path.relative_to(result.root)}", markup=False)
    console.print(
        f"Next: [cyan]drillbook --library {result.root} lint[/cyan], then "
        "[cyan]drillbook scenario list[/cyan]"
    )


def _existing_store(root: Path | None) -> Store | None:
    """The store, only when one is already set up: linting never creates a database."""
    if setting("DRILLBOOK_DATABASE_URL"):
        return open_store(root)
    if root is not None and (root / DATA_DIR / DATABASE_FILE).is_file():
        return open_store(root)
    return None


def _print_text(report: LintReport, seconds: float) -> None:
    for path, problems in report.by_file().items():
        console.print(Text(path, style="bold underline"), soft_wrap=True)
        for problem in problems:
            style = "red" if problem.level == "error" else "yellow"
            console.print(Text(f"  {problem}", style=style), soft_wrap=True)
        console.print()
    errors, warnings = len(report.errors), len(report.warnings)
    style = "bold red" if errors else ("bold yellow" if warnings else "bold green")
    console.print(
        Text(
            f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)} "
            f"in {len(report.files)} file{'s' * (len(report.files) != 1)} "
            f"({len(report.scenarios)} scenario{'s' * (len(report.scenarios) != 1)}) "
            f"in {seconds:.2f}s",
            style=style,
        ),
        soft_wrap=True,
    )


@app.command("lint")
def lint(
    ctx: typer.Context,
    directory: Annotated[
        Path | None,
        typer.Argument(
            help="Library folder. Default: --library, $DRILLBOOK_LIBRARY, or the "
            "nearest folder with drillbook.yaml.",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat, typer.Option("--format", help="text for people, json for CI.")
    ] = OutputFormat.TEXT,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail the lint too.")] = False,
    no_builtin: Annotated[
        bool, typer.Option("--no-builtin", help="Skip the built-in scenarios.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
) -> None:
    """Check the library: every problem at once as path:line:column: message."""
    if as_json:
        output_format = OutputFormat.JSON
    root = (
        directory.expanduser().resolve() if directory else state(ctx).library_root(required=False)
    )
    if root is None and no_builtin:
        raise ConfigError(
            "no library found and --no-builtin given: nothing to lint "
            "(pass DIR or run `drillbook init`)"
        )
    if root is None and output_format is OutputFormat.TEXT:
        err_console.print("no library found here; linting the built-in scenarios only")
    started = clock.monotonic()
    store = _existing_store(root)
    try:
        report = lint_library(
            root, include_builtin=not no_builtin, today=clock.today(), store=store
        )
    finally:
        if store is not None:
            store.close()
    seconds = clock.monotonic() - started
    if output_format is OutputFormat.JSON:
        print_json({**report.as_dict(), "strict": strict, "ok": not report.failed(strict=strict)})
    else:
        _print_text(report, seconds)
    if report.failed(strict=strict):
        raise typer.Exit(1)


@app.command("schema")
def schema(
    name: Annotated[
        str | None, typer.Argument(help=f"Which file's schema: {', '.join(schema_names())}.")
    ] = None,
    list_names: Annotated[bool, typer.Option("--list", help="List the schemas.")] = False,
) -> None:
    """Print the JSON Schema of a library file (for editors and CI)."""
    if list_names or name is None:
        for known in schema_names():
            console.print(f"{known:<12} {SCHEMAS[known].describes}", markup=False)
        return
    print_json(json_schema(name))
