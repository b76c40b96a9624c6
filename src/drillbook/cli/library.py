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
from drillbook.config import DATA_DIR, DATABASE_FILE, LIBRARY_FILE, setting
from drillbook.errors import ConfigError
from drillbook.flows.lint_library import LintReport
from drillbook.library.scaffolding import scaffold
from drillbook.library.schema import SCHEMAS
from drillbook.storage.engine import Store, open_store


class OutputFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"


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
    """Scaffold a library: drillbook.yaml, inventory.yaml, scenarios/, drills/, .gitignore,
    and the JSON Schemas with the editor settings that use them."""
    from drillbook.flows.schemas import write_editor_settings

    result = scaffold(directory, builtin_ids=list(from_builtin or []), force=force)
    result.written += write_editor_settings(result.root, force=force)
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
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            metavar="[PATH]...",
            help="Library folders, other folders or single files (scenario, drill plan, "
            "safety profile, inventory, drillbook.yaml). Default: --library, "
            "$DRILLBOOK_LIBRARY, or the nearest folder with drillbook.yaml.",
            show_default=False,
        ),
    ] = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option(
            "--format", help="text for people, json for scripts, sarif for code scanning."
        ),
    ] = OutputFormat.TEXT,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail the lint too.")] = False,
    no_builtin: Annotated[
        bool, typer.Option("--no-builtin", help="Skip the built-in scenarios.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Same as --format json.")] = False,
) -> None:
    """Check the library: every problem at once as path:line:column: message."""
    from drillbook.flows.lint_paths import lint_paths, sarif

    if as_json:
        output_format = OutputFormat.JSON
    given = [p.expanduser() for p in paths or []]
    root = state(ctx).library_root(required=False)
    if len(given) == 1 and given[0].is_dir() and (given[0] / LIBRARY_FILE).is_file():
        root, given = given[0].resolve(), []  # `drillbook lint DIR`: that library, in full
    if not given and root is None and no_builtin:
        raise ConfigError(
            "no library found and --no-builtin given: nothing to lint "
            "(pass PATH or run `drillbook init`)"
        )
    if not given and root is None and output_format is OutputFormat.TEXT:
        err_console.print("no library found here; linting the built-in scenarios only")
    started = clock.monotonic()
    store = _existing_store(root) if not given else None
    try:
        report = lint_paths(
            given,
            library=root,
            include_builtin=not no_builtin and not given,
            today=clock.today(),
            store=store,
        )
    finally:
        if store is not None:
            store.close()
    seconds = clock.monotonic() - started
    if output_format is OutputFormat.JSON:
        print_json({**report.as_dict(), "strict": strict, "ok": not report.failed(strict=strict)})
    elif output_format is OutputFormat.SARIF:
        print_json(sarif(report, root or Path.cwd()))
    else:
        _print_text(report, seconds)
    if report.failed(strict=strict):
        raise typer.Exit(1)


@app.command("schema")
def schema(
    name: Annotated[
        str | None,
        typer.Argument(
            metavar="[KIND]",
            help="scenario, program, inventory, drill, safety-profile, findings, scorecard.",
        ),
    ] = None,
    list_names: Annotated[bool, typer.Option("--list", help="List the schemas.")] = False,
) -> None:
    """Print the JSON Schema (with its $id) of a document kind, for editors and CI."""
    from drillbook.flows.schemas import kinds, schema_for

    if list_names or name is None:
        for known in kinds():
            console.print(f"{known:<15} {SCHEMAS[known].describes}", markup=False)
        return
    print_json(schema_for(name))
