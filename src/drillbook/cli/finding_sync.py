"""Command: ``drillbook finding sync`` - two-way sync with the team's trackers.

Heavy imports (storage, domain, the sync flow, the adapters) happen inside the command.
"""

from __future__ import annotations

from typing import Annotated

import typer

from drillbook.cli.app import finding_app
from drillbook.cli.context import state
from drillbook.cli.output import console, print_json


@finding_app.command("sync")
def sync(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Read the trackers and say what would change.")
    ] = False,
    tracker: Annotated[
        str | None, typer.Option("--tracker", help="Only this tracker (its name under trackers:).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Sync findings with the trackers in drillbook.yaml (idempotent; conflicts reported)."""
    from drillbook import clock
    from drillbook.domain.finding import lifecycle
    from drillbook.errors import ConfigError
    from drillbook.flows.tracker_sync import sync_tracker
    from drillbook.trackers.registry import load_tracker

    st = state(ctx)
    program = st.library().program
    configured = dict(program.trackers) if program else {}
    if not configured:
        raise ConfigError("no trackers configured: add a trackers: section to drillbook.yaml")
    if tracker is not None:
        if tracker not in configured:
            raise ConfigError(
                f"no tracker named '{tracker}' in drillbook.yaml "
                f"(configured: {', '.join(sorted(configured))})"
            )
        configured = {tracker: configured[tracker]}
    reports = []
    for name, section in configured.items():
        adapter = load_tracker(name, section)
        try:
            with st.store().session() as session:
                if not dry_run:
                    lifecycle.reopen_expired_risks(session, clock.today())
                report = sync_tracker(session, adapter, dry_run=dry_run)
                if dry_run:
                    session.rollback()
        finally:
            adapter.close()
        reports.append(report)
    if as_json:
        print_json([r.as_dict() for r in reports])
    else:
        for report in reports:
            prefix = f"{report.tracker}{' (dry run)' if report.dry_run else ''}"
            console.print(
                f"{prefix}: created {len(report.created)}, adopted {len(report.adopted)}, "
                f"pushed {len(report.pushed)}, pulled {len(report.pulled)}, "
                f"conflicts {len(report.conflicts)}",
                markup=False,
            )
            for line in [*report.created, *report.adopted, *report.pushed, *report.pulled]:
                console.print(f"  {line}", markup=False)
            for note in report.notes:
                console.print(f"  note: {note}", markup=False)
            for conflict in report.conflicts:
                console.print(f"  conflict: {conflict}", style="yellow", markup=False)
    if any(r.conflicts for r in reports):
        raise typer.Exit(1)
