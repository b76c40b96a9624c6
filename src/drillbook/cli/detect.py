"""Commands: detect run, detect test, detect convert (Sigma rules over recorded events)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from drillbook.cli.app import detect_app
from drillbook.cli.context import state
from drillbook.cli.files import read_input
from drillbook.cli.output import console, err_console, print_json, table
from drillbook.errors import LibraryError, Location, UsageError

if TYPE_CHECKING:
    from datetime import datetime

    from drillbook.detection.local import LocalSigmaBackend
    from drillbook.detection.regression import RegressionOutcome
    from drillbook.detection.sigma_sqlite import CompiledRule
    from drillbook.telemetry.readers.files import ReadReport

JsonOption = Annotated[bool, typer.Option("--json", help="JSON for scripts.")]


def _time(value: str | None, option: str) -> datetime | None:
    from drillbook.telemetry.readers.fields import parse_time

    if value is None:
        return None
    parsed = parse_time(value)
    if parsed is None:
        raise UsageError(f"{option} {value!r} is not a time; write e.g. 2026-04-29T14:30:00Z")
    return parsed


def _engine(ctx: typer.Context) -> LocalSigmaBackend:
    from drillbook.detection.local import LocalSigmaBackend, default_cache_path
    from drillbook.detection.sigma_sqlite import ConversionCache

    root = state(ctx).library_root(required=False)
    engine = LocalSigmaBackend(cache=ConversionCache(default_cache_path(root)))
    engine.store.workers = min(2, os.cpu_count() or 1)  # the CLI is single-threaded
    return engine


def _compile(engine: LocalSigmaBackend, rules: Path) -> list[CompiledRule]:
    from drillbook.detection.sigma_sqlite import rule_files

    compiled = engine.compile(rule_files(rules))
    if not compiled:
        raise LibraryError.single(Location.of(rules), "no Sigma rules found", "missing")
    return compiled


EventsFormat = Annotated[
    str,
    typer.Option(
        "--events-format",
        help="auto (told per file), json, jsonl, evtx, syslog or auditd.",
    ),
]


LARGE_INPUT_BYTES = 50_000_000  # above this, matching uses the trigram prefilter


def _size(path: Path) -> int:
    from drillbook.documents.folders import files_below

    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in files_below(path)) if path.is_dir() else 0


def _print_notes(report: ReadReport, unreached: dict[str, int]) -> None:
    """Skipped files grouped by reason, and log sources whose rules got no event."""
    reasons: dict[str, int] = {}
    for _, reason in report.skipped:
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items()):
        err_console.print(f"note: skipped {count} file(s): {reason}", markup=False)
    if report.duplicates:
        err_console.print(
            f"note: {report.duplicates} event(s) read twice (EVTX and its JSON) counted once",
            markup=False,
        )
    for source, count in unreached.items():
        err_console.print(
            f"warning: {count} rule(s) read `{source}`; no event went there", markup=False
        )


@detect_app.command("run")
def run(
    ctx: typer.Context,
    rules: Annotated[Path, typer.Option("--rules", help="A Sigma rule file or folder.")],
    events: Annotated[
        Path, typer.Option("--events", help="Events: JSON, EVTX, syslog/auditd, or a folder.")
    ],
    start: Annotated[str | None, typer.Option("--from", help="Window start (ISO time).")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Window end (ISO time).")] = None,
    logsource: Annotated[
        str, typer.Option("--logsource", help="Table for events that do not say theirs.")
    ] = "process_creation",
    events_format: EventsFormat = "auto",
    include_runner: Annotated[
        bool, typer.Option("--include-runner", help="Also match the drill runner's processes.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Run Sigma rules over recorded events and list the rules that fired."""
    from drillbook.detection.eventstore import Scope
    from drillbook.detection.file_runs import run_over_files
    from drillbook.telemetry.readers.files import ReadReport

    scope = Scope(
        start=_time(start, "--from"), end=_time(end, "--to"), include_runner=include_runner
    )
    engine = _engine(ctx)
    compiled = _compile(engine, rules)
    report = ReadReport()
    matches = run_over_files(
        engine,
        compiled,
        events,
        report,
        events_format=events_format,
        default_table=logsource,
        scope=scope,
        large=_size(events) > LARGE_INPUT_BYTES,
        aggregate=start is None and end is None,
    )
    fired = [m for m in matches if m.count]
    skipped = [r for r in compiled if not r.usable]
    unreached = engine.unreached(compiled)
    if as_json:
        print_json(
            {
                "events": report.events,
                "events_no_rule_reads": report.unread,
                "rules": len(compiled),
                "fired": [
                    {
                        "rule": m.rule.path,
                        "id": m.rule.rule_id,
                        "title": m.rule.title,
                        "level": m.rule.level,
                        "matches": m.count,
                        "first": m.first_time,
                        "last": m.last_time,
                    }
                    for m in fired
                ],
                "skipped": [{"rule": r.path, "reason": r.error} for r in skipped],
                "skipped_files": [{"file": str(p), "reason": why} for p, why in report.skipped],
                "unreached": unreached,
            }
        )
        return
    console.print(
        table(
            f"{len(fired)} of {len(compiled)} rules fired over {report.events} events",
            ["Rule", "Level", "Matches", "First", "File"],
            [(m.rule.title, m.rule.level, m.count, m.first_time, m.rule.path) for m in fired],
        )
    )
    for rule in skipped:
        console.print(f"skipped {rule.path}: {rule.error}", markup=False)
    _print_notes(report, unreached)


def load_manifest(fixtures: Path) -> list[dict[str, Any]]:
    """``fixtures.yaml``: which rules each recorded fixture must (and must not) fire."""
    from pydantic import BaseModel, ConfigDict, Field

    from drillbook.documents.validation import validate
    from drillbook.documents.yaml_io import load_mapping

    class Fixture(BaseModel):
        model_config = ConfigDict(extra="forbid")
        events: str
        logsource: str = "process_creation"
        expect_fired: list[str] = Field(default_factory=list)
        expect_not_fired: list[str] = Field(default_factory=list)

    class Manifest(BaseModel):
        model_config = ConfigDict(extra="forbid")
        fixtures: list[Fixture] = Field(min_length=1)

    path = fixtures / "fixtures.yaml"
    if not path.is_file():
        raise LibraryError.single(
            Location.of(path), "no fixtures.yaml in the fixtures folder", "missing"
        )
    manifest = validate(Manifest, load_mapping(path, "fixtures manifest"), path)
    return [f.model_dump() for f in manifest.fixtures]


def _names(rule: CompiledRule) -> set[str]:
    return {
        n.lower()
        for n in (rule.rule_id, rule.title, Path(rule.path).stem, Path(rule.path).name)
        if n
    }


def _regression(compiled: list[CompiledRule], fixtures: Path, exact: bool, as_json: bool) -> None:
    from drillbook.detection.regression import find_cases, run_cases

    outcomes = run_cases(find_cases(fixtures), compiled)
    bad = [o for o in outcomes if not o.passed(exact=exact)]
    if as_json:
        print_json({"passed": not bad, "checks": [_outcome_json(o) for o in outcomes]})
    else:
        ran = [o for o in outcomes if o.status != "no rule"]
        console.print(
            table(
                f"{len(ran) - len(bad)} of {len(ran)} regression samples passed",
                ["Rule", "Sample", "Expected", "Matched", "Status"],
                [
                    (
                        o.case.title or o.case.rule_id,
                        o.case.sample.name,
                        "≥1" if o.case.match_count is None else o.case.match_count,
                        "-" if o.matched is None else o.matched,
                        o.status,
                    )
                    for o in ran
                    if o.status != "ok" or len(ran) <= 50
                ],
            )
        )
        for o in outcomes:
            if o.status == "more":
                err_console.print(
                    f"warning: {o.case.info}: {o.matched} matches, {o.case.match_count} "
                    "declared; update match_count",
                    markup=False,
                )
        missing = sum(1 for o in outcomes if o.status == "no rule")
        if missing:
            err_console.print(
                f"note: {missing} sample(s) skipped: their rule is not in --rules", markup=False
            )
    if bad:
        raise typer.Exit(1)


def _outcome_json(outcome: RegressionOutcome) -> dict[str, Any]:
    return {
        "rule": outcome.case.rule_id,
        "title": outcome.case.title,
        "sample": str(outcome.case.sample),
        "expected": outcome.case.match_count,
        "matched": outcome.matched,
        "status": outcome.status,
    }


@detect_app.command("test")
def replay_fixtures(
    ctx: typer.Context,
    rules: Annotated[Path, typer.Option("--rules", help="A Sigma rule file or folder.")],
    fixtures: Annotated[
        Path,
        typer.Option(
            "--fixtures", help="Folder with fixtures.yaml, or SigmaHQ's regression_data layout."
        ),
    ],
    exact: Annotated[
        bool,
        typer.Option("--exact", help="Regression layout: more matches than declared fail too."),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Replay recorded telemetry against a rule set; exit 1 on a regression."""
    from drillbook.detection.eventstore import Scope
    from drillbook.detection.local import LocalSigmaBackend, read_events
    from drillbook.detection.regression import is_regression_layout

    engine = _engine(ctx)
    compiled = _compile(engine, rules)
    if not (fixtures / "fixtures.yaml").is_file() and is_regression_layout(fixtures):
        _regression(compiled, fixtures, exact, as_json)
        return
    outcomes = []
    for fixture in load_manifest(fixtures):
        fresh = LocalSigmaBackend(cache=engine.cache)
        fresh.ingest_sourced(
            read_events(fixtures / fixture["events"]), default_table=fixture["logsource"]
        )
        fired = {n for m in fresh.run(compiled, Scope()) if m.count for n in _names(m.rule)}
        known = {n for r in compiled for n in _names(r)}
        for name in fixture["expect_fired"]:
            status = (
                "ok"
                if name.lower() in fired
                else ("missing rule" if name.lower() not in known else "regression")
            )
            outcomes.append(
                {"fixture": fixture["events"], "rule": name, "expect": "fire", "status": status}
            )
        for name in fixture["expect_not_fired"]:
            status = "false positive" if name.lower() in fired else "ok"
            outcomes.append(
                {"fixture": fixture["events"], "rule": name, "expect": "silent", "status": status}
            )
    bad = [o for o in outcomes if o["status"] != "ok"]
    if as_json:
        print_json({"passed": not bad, "checks": outcomes})
    else:
        console.print(
            table(
                f"{len(outcomes) - len(bad)} of {len(outcomes)} fixture checks passed",
                ["Fixture", "Rule", "Expect", "Status"],
                [(o["fixture"], o["rule"], o["expect"], o["status"]) for o in outcomes],
            )
        )
    if bad:
        raise typer.Exit(1)


@detect_app.command("convert")
def convert(
    ctx: typer.Context,
    rule: Annotated[Path, typer.Argument(help="A Sigma rule file, or '-' for stdin.")],
    backend: Annotated[
        str, typer.Option("--backend", help="local, splunk, elastic, sentinel or loki.")
    ] = "local",
) -> None:
    """Print a Sigma rule in a backend's query language."""
    from drillbook.detection.config import library_detection_config
    from drillbook.detection.registry import backend_class, load_backend

    if str(rule) != "-" and not rule.exists():
        raise LibraryError.single(Location.of(rule), "no such rule file", "missing")
    text = read_input(rule)
    if backend == "local":
        typer.echo(_engine(ctx).convert(text))
        return
    root = state(ctx).library_root(required=False)
    config = library_detection_config(root)
    if getattr(config, backend, None) is None:
        # converting needs no connection: build the backend without its config section
        cls: Any = backend_class(backend)
        typer.echo(cls.convert(cls.__new__(cls), text))
        return
    typer.echo(load_backend(backend, config, library_root=root).convert(text))
