"""Commands: drill run, validate, list-techniques, cleanup, list, show, events, export."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from drillbook.cli.app import drill_app
from drillbook.cli.context import state
from drillbook.cli.files import OutputOption, write_output
from drillbook.cli.output import console, err_console, print_json, table
from drillbook.config import setting
from drillbook.domain.drill import service
from drillbook.domain.drill.attire import to_attire
from drillbook.domain.drill.plan import SafetyProfile
from drillbook.domain.drill.planfile import find_plan
from drillbook.errors import LibraryError, UsageError
from drillbook.notify.base import NoNotifier, Notifier

AtomicsOption = Annotated[
    Path | None,
    typer.Option(
        "--atomics",
        help="Atomic Red Team atomics folder. Default: atomics_path in "
        "drillbook.yaml, $DRILLBOOK_ATOMICS_PATH, $HOME/AtomicRedTeam/atomics.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON for scripts.")]


def _notifier(webhook: str | None) -> Notifier:
    url = webhook or setting("DRILLBOOK_WEBHOOK_URL")
    if not url:
        return NoNotifier()
    from drillbook.notify.webhook import WebhookNotifier

    return WebhookNotifier(url)


def _run_summary(run: Any) -> dict[str, Any]:
    from drillbook.domain.drill.plan import describe_containment

    return {
        "id": run.id,
        "plan": run.plan_name,
        "status": run.status,
        "target": run.target,
        "containment": describe_containment(run.safety),
        "started_at": run.started_at,
        "ended_at": run.ended_at,
        "abort_reason": run.abort_reason,
        "techniques": [
            {
                "id": t.id,
                "technique": t.technique,
                "name": t.name,
                "executor": t.executor,
                "status": t.status,
                "reason": t.reason,
                "exit_code": t.exit_code,
                "timed_out": t.timed_out,
                "pid": t.pid,
                "ran": t.ran,
                "checks": t.checks,
                "cleanup": t.cleanup_outcome,
                "telemetry_captured": t.telemetry_captured,
                "telemetry_note": t.telemetry_note,
                "started_at": t.started_at,
                "ended_at": t.ended_at,
                "expected_detections": t.expected_detections,
            }
            for t in run.technique_runs
        ],
    }


def _technique_table(run: Any) -> Any:
    from drillbook.domain.drill.plan import describe_containment

    return table(
        f"Drill {run.plan_name} ({run.id}) - {run.status}; "
        f"containment: {describe_containment(run.safety)}",
        ["#", "Technique", "Name", "Status", "Exit", "Cleanup", "Telemetry", "Reason"],
        [
            (
                t.position,
                t.technique,
                t.name,
                t.status,
                "" if t.exit_code is None else t.exit_code,
                t.cleanup_outcome,
                "yes" if t.telemetry_captured else "no",
                t.reason or "",
            )
            for t in run.technique_runs
        ],
    )


@drill_app.command("run")
def run(
    ctx: typer.Context,
    plan: Annotated[str, typer.Argument(help="Plan file, or a plan name in drills/.")],
    atomics: AtomicsOption = None,
    get_prereqs: Annotated[
        bool,
        typer.Option("--get-prereqs", help="Run get_prereq_command for unmet atomic dependencies."),
    ] = False,
    webhook: Annotated[
        str | None,
        typer.Option(
            help="Slack-compatible webhook for start/end notices (default $DRILLBOOK_WEBHOOK_URL).",
            show_default=False,
        ),
    ] = None,
    no_sensor: Annotated[
        bool, typer.Option("--no-sensor", help="Do not record process telemetry with strace.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Detonate a drill plan's techniques under its safety profile, then clean up."""
    from drillbook.flows.drill_run import run_drill

    cli = state(ctx)
    library = cli.library_root(required=False)
    path = find_plan(plan, library)
    store = cli.store()

    def say(message: str) -> None:
        if not as_json:
            err_console.print(message, markup=False)

    run_id = run_drill(
        store,
        path,
        atomics=atomics,
        library=library,
        get_prereqs=get_prereqs,
        notifier=_notifier(webhook),
        use_sensor=not no_sensor,
        progress=say,
    )
    with store.session() as session:
        record = service.get_run(session, run_id)
        if as_json:
            print_json(_run_summary(record))
        else:
            console.print(_technique_table(record))
            console.print(f"drill id {run_id}; `drillbook drill show {run_id}` for details")
        aborted = record.status != "completed"
    if aborted:
        raise typer.Exit(1)


@drill_app.command("validate")
def validate(
    ctx: typer.Context,
    plans: Annotated[list[str], typer.Argument(help="Plan files or names.")],
    atomics: AtomicsOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check plans and show what each technique would do under its safety profile
    (runs nothing)."""
    from drillbook.flows.drill_validate import validate_plan

    library = state(ctx).library_root(required=False)
    problems = []
    report: list[dict[str, Any]] = []
    for name in plans:
        try:
            checks, found = validate_plan(
                find_plan(name, library), atomics=atomics, library=library
            )
        except LibraryError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(found)
        report.extend(check.as_dict() for check in checks)
    if problems:
        raise LibraryError(problems)
    if as_json:
        print_json(report)
        return
    console.print(
        table(
            "Drill plan check",
            [
                "Plan",
                "Technique",
                "Name",
                "Decision",
                "Contained",
                "Reason / what the text suggests",
            ],
            [
                (
                    r["plan"],
                    r["technique"],
                    r["name"],
                    r["decision"],
                    "sandbox" if r["contained"] else "no",
                    r["reason"] or r["explanation"] or "",
                )
                for r in report
            ],
        )
    )


@drill_app.command("list-techniques")
def list_techniques(
    ctx: typer.Context,
    atomics: AtomicsOption = None,
    technique: Annotated[
        list[str] | None,
        typer.Option("--technique", "-t", help="Only this ATT&CK technique (repeatable)."),
    ] = None,
    runnable: Annotated[
        bool, typer.Option("--runnable", help="Only tests that can run here.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The Atomic Red Team tests: which can run on this machine, and why the rest cannot."""
    from drillbook.executors.atomics import AtomicsFolder
    from drillbook.executors.safety import assess, contained_refusal, explanation
    from drillbook.flows.drill_run import resolve_atomics

    library = state(ctx).library_root(required=False)
    folder = AtomicsFolder(resolve_atomics(atomics, library))
    default = SafetyProfile()
    rows: list[dict[str, Any]] = []
    for tid in technique or folder.technique_ids():
        for ref in folder.tests(tid):
            why = ref.runnable_reason()
            spec = ref.test.executor
            safety = None
            suggests = None
            if why is None:
                command = ref.render(spec.command, {}, folder.root) or ""
                cleanup = ref.render(spec.cleanup_command, {}, folder.root)
                found = assess(command, cleanup, elevation_required=spec.elevation_required)
                safety = contained_refusal(found, default)  # the default runs in the sandbox
                suggests = explanation(found)
            if runnable and why is not None:
                continue
            rows.append(
                {
                    "test": ref.key,
                    "name": ref.test.name,
                    "executor": spec.name,
                    "platforms": ref.test.supported_platforms,
                    "guid": ref.test.auto_generated_guid,
                    "runnable": why is None,
                    "reason": why,
                    "default_profile": safety or ("" if why else "allowed"),
                    "explanation": suggests,
                }
            )
    if as_json:
        print_json(rows)
        return
    console.print(
        table(
            f"Atomic Red Team tests in {folder.root}",
            ["Test", "Name", "Executor", "Platforms", "Runs here", "Why not / default profile"],
            [
                (
                    r["test"],
                    r["name"],
                    r["executor"],
                    ", ".join(r["platforms"]),
                    "yes" if r["runnable"] else "no",
                    r["reason"] or r["default_profile"],
                )
                for r in rows
            ],
        )
    )


@drill_app.command("cleanup")
def cleanup(
    ctx: typer.Context,
    pending: Annotated[
        bool,
        typer.Option(
            "--pending", help="Run the cleanups that crashed runs still owe (from the journal)."
        ),
    ] = False,
    run_id: Annotated[str | None, typer.Option("--run", help="Only this drill run.")] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Also for runs whose runner still seems alive.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Settle owed cleanups: `drillbook drill cleanup --pending`."""
    from drillbook.flows.drill_run import settle_pending

    if not pending:
        raise UsageError("say which cleanups to run: --pending (those the journal owes)")
    store = state(ctx).store()
    full_id = None
    if run_id:
        with store.session() as session:
            full_id = service.get_run(session, run_id).id
    settled = settle_pending(
        store,
        run_id=full_id,
        force=force,
        progress=None if as_json else (lambda m: err_console.print(m, markup=False)),
    )
    if as_json:
        print_json([s.__dict__ for s in settled])
        return
    if not settled:
        console.print("no cleanups owed")
        return
    console.print(
        table(
            "Cleanups settled",
            ["Run", "Technique", "Outcome"],
            [(s.run_id, s.technique, s.outcome) for s in settled],
        )
    )
    if any(s.outcome == "failed" for s in settled):
        raise typer.Exit(1)


@drill_app.command("abort")
def abort(
    ctx: typer.Context,
    run_id: Annotated[
        str | None, typer.Argument(help="The running drill (default: the only one running).")
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="Who pulls it (default: user@host).")
    ] = None,
    why: Annotated[str | None, typer.Option("--why", help="What was seen, for the record.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Abort a running drill from any terminal: its technique is killed, its cleanup
    runs, the run ends aborted naming who pulled it."""
    import socket

    from drillbook.executors.process import user_name
    from drillbook.flows.drill_abort import request_abort

    store = state(ctx).store()
    who = by or f"{user_name()}@{socket.gethostname()}"
    request = request_abort(store, run_id, by=who, why=why)
    if as_json:
        print_json({"run_id": request.run_id, "plan": request.plan_name, "by": request.by})
        return
    console.print(
        f"abort requested for drill {request.run_id} ({request.plan_name}) by {request.by}; "
        "the runner stops within a second and runs the cleanup",
        markup=False,
    )


@drill_app.command("list")
def list_runs(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option(help="How many runs, newest first.")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Stored drill runs, newest first."""
    with state(ctx).store().session() as session:
        runs = service.list_runs(session, limit)
        if as_json:
            print_json(
                [{k: v for k, v in _run_summary(r).items() if k != "techniques"} for r in runs]
            )
            return
        console.print(
            table(
                "Drill runs",
                ["Id", "Plan", "Status", "Started", "Ended", "Techniques"],
                [
                    (
                        r.id,
                        r.plan_name,
                        r.status,
                        r.started_at.isoformat(),
                        r.ended_at.isoformat() if r.ended_at else "",
                        len(r.technique_runs),
                    )
                    for r in runs
                ],
            )
        )


@drill_app.command("show")
def show(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Drill run id (or a unique prefix).")],
    as_json: JsonOption = False,
) -> None:
    """One drill run: each technique's outcome, cleanup and telemetry."""
    with state(ctx).store().session() as session:
        record = service.get_run(session, run_id)
        if as_json:
            print_json(_run_summary(record))
            return
        console.print(_technique_table(record))
        console.print(
            f"target: {record.target}; window {record.started_at.isoformat()} - "
            f"{record.ended_at.isoformat() if record.ended_at else 'running'}",
            markup=False,
        )
        if record.abort_reason:
            console.print(f"aborted: {record.abort_reason}", markup=False)


@drill_app.command("events")
def events(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Drill run id (or a unique prefix).")],
    jsonl: Annotated[bool, typer.Option("--jsonl", help="JSON lines (one event a line).")] = False,
    technique_run: Annotated[str | None, typer.Option(help="Only this technique run id.")] = None,
    include_runner: Annotated[
        bool, typer.Option(help="Include drillbook's own wrapper processes.")
    ] = False,
) -> None:
    """Process events a drill's sensor recorded (Sigma process_creation fields)."""
    from drillbook.telemetry.jsonl import write_jsonl

    with state(ctx).store().session() as session:
        rows = service.process_events(session, run_id, technique_run, include_runner)
    if jsonl:
        write_jsonl(rows, sys.stdout)
        return
    console.print(
        table(
            "Process events",
            ["UtcTime", "Technique", "PID", "PPID", "Image", "CommandLine"],
            [
                (
                    r["UtcTime"].isoformat(),
                    r["technique"],
                    r["ProcessId"],
                    r["ParentProcessId"],
                    r["Image"],
                    r["CommandLine"],
                )
                for r in rows
            ],
        )
    )


@drill_app.command("export")
def export(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="Drill run id (or a unique prefix).")],
    attire: Annotated[
        bool, typer.Option("--attire", help="ATTiRe JSON (VECTR imports it).")
    ] = True,
    output: OutputOption = None,
) -> None:
    """Export a drill run's execution record (`drillbook drill export ID --attire`)."""
    with state(ctx).store().session() as session:
        document = to_attire(service.get_run(session, run_id))
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    written = write_output(output, text)
    if written is not None:
        err_console.print(f"wrote {written}", markup=False)
