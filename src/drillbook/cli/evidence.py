"""Commands: ``drillbook evidence --since DATE -o DIR|FILE.zip`` and ``evidence verify``.

The pack answers an auditor or a buyer's questionnaire from the record: dated reports,
scorecards, findings with their history, the schedule kept, metrics with charts, the
audit log, an ``index.html`` and a manifest of SHA-256 hashes that ``verify`` checks.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from drillbook.cli.app import evidence_app
from drillbook.cli.context import state
from drillbook.cli.output import console, print_json
from drillbook.errors import StateError


@evidence_app.callback()
def evidence(
    ctx: typer.Context,
    since: Annotated[
        str | None, typer.Option("--since", help="First day covered (YYYY-MM-DD).")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="A new folder, or a file ending in .zip."),
    ] = None,
    team: Annotated[str | None, typer.Option("--team", help="Only this team's records.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Build or verify an evidence pack for auditors and buyers."""
    if ctx.invoked_subcommand is not None:
        return
    if since is None or output is None:
        raise StateError("give --since YYYY-MM-DD and -o FOLDER or -o FILE.zip")
    try:
        first = date.fromisoformat(since)
    except ValueError:
        raise StateError(f"--since '{since}' is not a date; write YYYY-MM-DD") from None
    from drillbook.flows.evidence import build_pack

    st = state(ctx)
    library = st.library()
    with st.store().session() as session:
        result = build_pack(session, library, since=first, output=output, team=team)
    if as_json:
        print_json({"path": result.path, "files": result.files, "counts": result.counts})
        return
    counts = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in result.counts.items())
    console.print(
        f"wrote {result.path}: {len(result.files)} files ({counts}); "
        "open index.html, check with `drillbook evidence verify`",
        markup=False,
    )


@evidence_app.command("verify")
def verify(
    path: Annotated[Path, typer.Argument(help="The pack: its folder or its .zip file.")],
) -> None:
    """Check a pack against its manifest; names every file that changed."""
    from drillbook.flows.evidence import verify_pack

    checked = verify_pack(path)
    console.print(f"{path}: all {checked} files match the manifest", markup=False)
