"""Commands: drill score, drill coverage, drill ack (detection scorecards)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from drillbook.cli.app import drill_app
from drillbook.cli.context import state
from drillbook.cli.files import write_output
from drillbook.cli.output import console, print_json, table
from drillbook.errors import ConfigError, NotFoundError, UsageError

JsonOption = Annotated[bool, typer.Option("--json", help="JSON for scripts.")]


def free_scorecard_path(folder: Path, name: str, run_id: str) -> Path:
    """``folder/name``, unless it holds another run's scorecard: then ``-2``, ``-3``, ...
    (scorecards of the same plan on the same day never overwrite each other; re-scoring
    the same run replaces its own file)."""
    stem, suffix = name.rsplit(".", 1)
    number = 1
    while True:
        candidate = folder / (name if number == 1 else f"{stem}-{number}.{suffix}")
        if not candidate.exists() or _scorecard_run(candidate) == run_id:
            return candidate
        number += 1


def _scorecard_run(path: Path) -> str | None:
    from drillbook.documents.yaml_io import load_file
    from drillbook.errors import LibraryError

    try:
        data = load_file(path)
    except (LibraryError, OSError):
        return None
    return str(data.get("drill_run")) if isinstance(data, dict) and data.get("drill_run") else None


@drill_app.command("score")
def score(
    ctx: typer.Context,
    run_id: Annotated[
        str | None,
        typer.Argument(help="The drill run's id (or a 6+ character prefix); default: the latest."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="Scorecard file ('-' for stdout). Default: "
            "<library>/drill-results/<date>-<plan>.yaml.",
        ),
    ] = None,
    backend: Annotated[
        str | None, typer.Option("--backend", help="Detection backend (default: config).")
    ] = None,
    no_wait: Annotated[
        bool, typer.Option("--no-wait", help="Ask once; do not wait for ingestion delay.")
    ] = False,
    no_findings: Annotated[
        bool, typer.Option("--no-findings", help="Do not open or update findings.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Check a drill's expected detections, write its scorecard, open findings."""
    from drillbook.detection.config import library_detection_config
    from drillbook.domain.scorecard.document import file_name
    from drillbook.flows.drill_check import check_drill

    cli = state(ctx)
    root = cli.library_root(required=False)
    config = library_detection_config(root)
    if backend:
        config = config.model_copy(update={"backend": backend})
    sla = None
    if root is not None:
        from drillbook.library.loader import load_program

        sla = load_program(root).sla
    with cli.store().session() as session:
        run_id = run_id or latest_run_id(session)
        check = check_drill(
            session,
            run_id,
            config=config,
            library_root=root,
            wait=not no_wait,
            open_findings=not no_findings,
            sla=sla,
        )
        card = check.scorecard
    if output is None:
        if root is None:
            raise ConfigError("no library: pass -o FILE for the scorecard")
        name = file_name(card.date, card.plan or run_id)
        output = free_scorecard_path(root / "drill-results", name, card.drill_run or run_id)
    write_output(output, card.dump())
    if as_json:
        print_json(
            {
                "scorecard": card.to_document(),
                "file": str(output),
                "findings_opened": check.findings_opened,
                "findings_updated": check.findings_updated,
                "findings_verified": check.findings_verified,
            }
        )
        return
    console.print(
        table(
            f"Drill {run_id}: {card.detections_fired}/{card.techniques_with_expected_detection} "
            "detections fired",
            ["Technique", "Rule", "Verdict", "Severity", "Time to alert", "Finding"],
            [
                (
                    r.technique,
                    r.rule_title or r.expected_rule,
                    r.verdict,
                    r.fired_severity,
                    f"{r.time_to_alert_seconds:.1f}s"
                    if r.time_to_alert_seconds is not None
                    else "-",
                    r.finding_id,
                )
                for r in check.rows
            ],
        )
    )
    console.print(f"scorecard written to {output}", markup=False)


def latest_run_id(session: Session) -> str:
    """The most recent drill run, for `drill score` straight after `drill run`."""
    from drillbook.domain.drill.service import list_runs

    runs = list_runs(session, limit=1)
    if not runs:
        raise NotFoundError("no drill has run yet; run one with `drillbook drill run PLAN`")
    return runs[0].id


@drill_app.command("coverage")
def coverage(
    ctx: typer.Context,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Navigator layer file ('-' for stdout).")
    ],
    name: Annotated[str, typer.Option("--name", help="Layer name.")] = "drillbook coverage",
) -> None:
    """Export an ATT&CK Navigator layer (4.5) of detection pass rates."""
    from sqlalchemy import select

    from drillbook.domain.scorecard.models import DetectionResultRow
    from drillbook.domain.scorecard.navigator import build_layer

    with state(ctx).store().session() as session:
        rows = list(session.scalars(select(DetectionResultRow)))
        layer = build_layer(rows, name=name)
    written = write_output(output, json.dumps(layer, indent=2) + "\n")
    if written is not None:
        console.print(f"{len(layer['techniques'])} techniques written to {written}", markup=False)


@drill_app.command("ack")
def ack(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="The drill run's id.")],
    technique: Annotated[str, typer.Argument(help="Technique id, e.g. T1082.")],
    at: Annotated[str | None, typer.Option("--at", help="When (ISO time). Default: now.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who acknowledged.")] = None,
) -> None:
    """Record when a human acknowledged the alert of a drill's technique."""
    from drillbook import clock
    from drillbook.domain.drill import service as drills
    from drillbook.domain.scorecard.service import check_ack_time, record_ack
    from drillbook.telemetry.readers.fields import parse_time

    moment = parse_time(at) if at else None
    if at and moment is None:
        raise UsageError(f"--at {at!r} is not a time; write e.g. 2026-04-29T14:34:00Z")
    with state(ctx).store().session() as session:
        run = drills.get_run(session, run_id)
        if technique not in {t.technique for t in run.technique_runs}:
            raise ConfigError(f"drill {run_id} has no technique {technique}")
        started = [
            t.started_at
            for t in run.technique_runs
            if t.technique == technique and t.started_at is not None
        ]
        check_ack_time(technique, moment or clock.now(), min(started) if started else None)
        saved = record_ack(session, run.id, technique, at=moment, by=by)
        when = saved.acknowledged_at
    console.print(
        f"acknowledgement of {technique} in {run_id} recorded at {when.isoformat()}", markup=False
    )
