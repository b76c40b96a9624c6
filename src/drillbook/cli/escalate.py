"""Command: ``drillbook escalate`` - SLA reminders and escalation (safe from cron).

Heavy imports (storage, domain, the flow, the notifier adapters) happen inside the
command.
"""

from __future__ import annotations

from typing import Annotated

import typer

from drillbook.cli.app import app
from drillbook.cli.context import state
from drillbook.cli.output import console, print_json


@app.command("escalate")
def escalate(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say who would be told what; send nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Remind owners before findings' SLA dates and escalate after them (safe from cron).

    Each notice is sent once (a ledger in the store), one digest per person.
    """
    from importlib.metadata import entry_points

    from drillbook.errors import ConfigError
    from drillbook.flows.escalation import run_escalation
    from drillbook.notify.digest import DigestNotifier
    from drillbook.notify.settings import NotifySettings

    st = state(ctx)
    program = st.library(required=True).program
    if program is None:
        raise ConfigError("drillbook escalate needs drillbook.yaml (run drillbook init)")
    if not program.notify:
        raise ConfigError("no notify: section in drillbook.yaml (see docs/escalation.md)")
    settings = NotifySettings.model_validate(program.notify)
    found = [ep for ep in entry_points(group="drillbook.notifiers") if ep.name == settings.channel]
    if not found:
        raise ConfigError(f"no notifier named '{settings.channel}' is installed")
    cls = found[0].load()
    if not (isinstance(cls, type) and issubclass(cls, DigestNotifier)):
        raise ConfigError(f"notifier entry point '{settings.channel}' is not a DigestNotifier")
    notifier = cls.from_settings(settings)
    report = run_escalation(st.store(), program, settings, notifier, dry_run=dry_run)
    if as_json:
        print_json(report.as_dict())
    else:
        verb = "would send" if dry_run else "sent"
        total = sum(len(v) for v in report.sent.values())
        console.print(
            f"{report.today}: {verb} {total} notice(s) in {len(report.sent)} digest(s); "
            f"{report.already_sent} already sent before",
            markup=False,
        )
        for who, notices in report.sent.items():
            console.print(f"  {who}: {', '.join(notices)}", markup=False)
        # reported, not failed: a finding nobody owns must not stop everyone else's
        # notices, and `finding list --problems` is where it gets fixed
        for line in report.unreachable:
            console.print(f"  unreachable: {line}", style="yellow", markup=False)
