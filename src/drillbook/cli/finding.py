"""Commands: ``drillbook finding ...`` - the findings backlog.

``add | list | show | update | close | rank | export | import``. Ids are per library and
sequential (F-001, F-002, ...). Every command takes ``--json`` for scripts.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from drillbook import clock
from drillbook.cli.app import finding_app
from drillbook.cli.context import author, state
from drillbook.cli.output import FullOpt, console, print_json, table
from drillbook.clip import clip
from drillbook.domain.finding import service
from drillbook.domain.finding.enums import FindingSource, FindingStatus
from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.service import finding_summary
from drillbook.domain.program.models import SlaPolicy
from drillbook.errors import FileAccessError, UsageError

if TYPE_CHECKING:
    from drillbook.domain.finding.rows import FindingRow

# The exercise service and the findings' import/export are imported by the commands that
# use them: with them, every `finding` command paid a quarter of a second more to start
# (the exercise console, the scenario models).

# findings `finding list` prints without --limit or --all: a screenful of pages for the
# table, a page of JSON for a script (which says --all, or follows the --cursor hint)
TABLE_PAGE = 200
JSON_PAGE = 1000
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who made the change.", show_default=False)]


def _date(value: str | None, what: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{what} '{value}' is not a date; write YYYY-MM-DD") from None


def _sla(ctx: typer.Context) -> SlaPolicy | None:
    program = state(ctx).library().program
    return program.sla if program else None


def _row(f: Finding, full: bool = False) -> tuple[Any, ...]:
    return (
        f.id,
        f.severity,
        f.status + (" (overdue)" if f.overdue else ""),
        f.description.strip() if full else clip(f.description, 70),
        f.owner,
        f.target_date,
        f.due_date,
        f.change_type,
        f.capability,
    )


_COLUMNS = [
    "Id",
    "Severity",
    "Status",
    "Gap",
    "Owner",
    "Target",
    "Due (SLA)",
    "Change",
    "Capability",
]


@finding_app.command("add")
def add(
    ctx: typer.Context,
    description: Annotated[str, typer.Option("--description", "-d", help="The gap found.")],
    severity: Annotated[
        str, typer.Option("--severity", "-s", help="critical, high, medium or low.")
    ],
    remediation: Annotated[
        str | None, typer.Option("--remediation", "-r", help="Proposed remediation.")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Owner (team or person).")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Team the fix belongs to.")] = None,
    target_date: Annotated[str | None, typer.Option("--target-date", help="YYYY-MM-DD.")] = None,
    capability: Annotated[
        str | None,
        typer.Option(
            "--capability",
            help="on_call, credential_revocation, customer_comms, ... "
            "(guessed from the text when left out).",
        ),
    ] = None,
    change_type: Annotated[
        str | None,
        typer.Option(
            "--change-type", help="policy, configuration or training (guessed when left out)."
        ),
    ] = None,
    fix_location: Annotated[
        str | None,
        typer.Option("--fix-location", help="Where the fix lives (a page or an external system)."),
    ] = None,
    exercise_id: Annotated[
        str | None,
        typer.Option("--exercise", "-e", help="Exercise it came from (source exercise)."),
    ] = None,
    source: Annotated[
        FindingSource | None,
        typer.Option("--source", help="exercise, drill or incident (default: exercise)."),
    ] = None,
    source_ref: Annotated[
        str | None, typer.Option("--source-ref", help="Link to the run, drill or incident.")
    ] = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a finding; its due date follows the SLA for its severity."""
    from drillbook.domain.exercise import service as exercises

    sla = _sla(ctx)
    with state(ctx).store().session() as session:
        linked = exercises.get_exercise(session, exercise_id) if exercise_id else None
        finding = service.create_finding(
            session,
            description=description,
            severity=severity,
            source=str(source or FindingSource.EXERCISE),
            source_ref=source_ref or (linked.label if linked else None),
            owner=owner,
            team=team or (linked.team if linked else None),
            proposed_remediation=remediation,
            capability=capability,
            change_type=change_type,
            target_date=_date(target_date, "--target-date"),
            sla=sla,
            fix_location=fix_location,
            exercise_id=linked.id if linked else None,
            author=author(by),
        )
        if as_json:
            print_json(finding_summary(finding))
            return
        console.print(
            f"{finding.id} {finding.severity}: due {finding.due_date} (SLA); "
            f"change {finding.change_type or 'unclassified'}, capability "
            f"{finding.capability or 'unclassified'}",
            markup=False,
        )


@finding_app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    severity: Annotated[str | None, typer.Option("--severity", help="Only this severity.")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Only this owner.")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Only this team.")] = None,
    capability: Annotated[str | None, typer.Option("--capability", help="Only this one.")] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="exercise, drill, incident.")
    ] = None,
    exercise_id: Annotated[
        str | None, typer.Option("--exercise", "-e", help="Only from it.")
    ] = None,
    open_only: Annotated[
        bool, typer.Option("--open", help="Only findings still owed work.")
    ] = False,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only findings past their SLA.")
    ] = False,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            min=1,
            help=f"At most this many (a page; without --limit the table shows {TABLE_PAGE}, "
            f"--json {JSON_PAGE}, and stderr says how to get the next page).",
            show_default=False,
        ),
    ] = None,
    every: Annotated[
        bool,
        typer.Option("--all", help="Every matching finding, not a page (JSON streams them)."),
    ] = False,
    cursor: Annotated[
        str | None,
        typer.Option("--cursor", help="Start after this finding id (the next page's start)."),
    ] = None,
    full: FullOpt = False,
    problems: Annotated[
        bool,
        typer.Option(
            "--problems",
            help="Report open findings with no owner, no target date, or a target past the "
            "SLA (exit status 1 when there are any).",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """The backlog, filtered."""
    from drillbook.cli.streaming import more_hint, stream_json_texts, stream_table
    from drillbook.domain.finding import lifecycle
    from drillbook.domain.finding.rows import iter_findings
    from drillbook.storage.bulk import bulk_read

    if every and limit is not None:
        raise UsageError("--all and --limit: give one of them")
    if limit is None and not every:
        limit = JSON_PAGE if as_json else TABLE_PAGE  # not 100,000 rows; --cursor for more
    # a long JSON list is written by two connections at once (storage.twin)
    long_json = as_json and not problems and (limit is None or limit > JSON_PAGE)
    store = state(ctx).store()
    with store.session() as session:
        lifecycle.reopen_expired_risks(session, clock.today())
    # the rest only reads: its output streams as it is read (not held for a commit)
    with bulk_read(), store.reading(twin=long_json) as session:
        linked = None
        if exercise_id:
            from drillbook.domain.exercise import service as exercises

            linked = exercises.parse_exercise_id(exercise_id)
        filters: dict[str, Any] = {
            "status": status,
            "severity": severity,
            "owner": owner,
            "team": team,
            "capability": capability,
            "source": source,
            "exercise_id": linked,
            "active": True if open_only else None,
            "overdue": overdue,
        }
        after = service.parse_id(cursor) if cursor else 0
        if problems:
            _report_problems(service.list_findings(session, **filters), as_json)
            return
        # one row past the page says whether there is a next one
        fetch = None if limit is None else limit + 1
        last: list[str] = []
        if as_json:
            from drillbook.domain.finding.summaries import iter_summary_texts

            texts = iter_summary_texts(session, after=after, limit=fetch, **filters)

            def text_page() -> Iterator[str]:
                for index, (finding_id, text) in enumerate(texts):
                    if limit is not None and index == limit:
                        more_hint(last[0] if last else None)
                        return
                    last[:] = [finding_id]
                    yield text

            stream_json_texts(text_page())
            return
        rows = iter_findings(session, after=after, limit=fetch, **filters)

        def page() -> Iterator[FindingRow]:
            for index, row in enumerate(rows):
                if limit is not None and index == limit:
                    more_hint(last[0] if last else None)
                    return
                last[:] = [row.id]
                yield row

        total = service.count_findings(session, **filters)
        shown = f"{total}" if total <= (limit or total) and not cursor else f"page of {total}"
        title = f"Findings ({shown})"
        stream_table(title, _COLUMNS, (_row(f, full) for f in page()))  # type: ignore[arg-type]


def _report_problems(found: list[Finding], as_json: bool) -> None:
    from drillbook.domain.finding.hygiene import backlog_problems

    listed = backlog_problems(found)
    if as_json:
        print_json([p.as_dict() for p in listed])
    else:
        for problem in listed:
            console.print(f"{problem.finding_id}: {problem.message} [{problem.code}]", markup=False)
        console.print(
            f"{len(listed)} problem{'s' if len(listed) != 1 else ''} in "
            f"{len({p.finding_id for p in listed})} finding(s)",
            markup=False,
        )
    if listed:
        raise typer.Exit(1)


@finding_app.command("show")
def show(
    ctx: typer.Context,
    finding_id: Annotated[str, typer.Argument(help="F-001")],
    as_json: JsonOpt = False,
) -> None:
    """One finding with its full history (who, when, from, to, why) and evidence."""
    from drillbook.domain.finding import lifecycle

    with state(ctx).store().session() as session:
        lifecycle.reopen_expired_risks(session, clock.today())
        finding = service.get_finding(session, finding_id)
        from drillbook.domain.finding.tracking import link_view, links_by_finding

        data = finding_summary(finding)
        data["trackers"] = [
            link_view(x) for x in links_by_finding(session, [finding.id]).get(finding.id, [])
        ]
        if as_json:
            print_json(data)
            return
        for key, value in data.items():
            if key not in ("history", "trackers") and value not in (None, [], ""):
                console.print(f"{key}: {value}", markup=False)
        for link in data["trackers"]:
            console.print(
                f"tracker {link['tracker']}: {link['key']} {link['url'] or ''}".rstrip(),
                markup=False,
            )
        console.print(
            table(
                "History",
                ["When (UTC)", "Who", "Kind", "Change", "Why", "Ref"],
                [
                    (
                        h["at"].strftime("%Y-%m-%d %H:%M"),
                        h["author"],
                        h["kind"],
                        f"{h['from'] or ''} -> {h['to']}" if h["to"] else "",
                        h["text"],
                        h["source_ref"],
                    )
                    for h in data["history"]
                ],
            )
        )


@finding_app.command("update")
def update(
    ctx: typer.Context,
    finding_id: Annotated[str, typer.Argument(help="F-001")],
    status: Annotated[
        str | None,
        typer.Option(
            "--status", help="open, in_progress, resolved, verified, risk_accepted, wont_do."
        ),
    ] = None,
    expires: Annotated[
        str | None, typer.Option("--expires", help="Expiry of a risk acceptance (YYYY-MM-DD).")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner")] = None,
    team: Annotated[str | None, typer.Option("--team")] = None,
    target_date: Annotated[str | None, typer.Option("--target-date")] = None,
    severity: Annotated[str | None, typer.Option("--severity")] = None,
    remediation: Annotated[str | None, typer.Option("--remediation")] = None,
    capability: Annotated[str | None, typer.Option("--capability")] = None,
    change_type: Annotated[str | None, typer.Option("--change-type")] = None,
    fix_location: Annotated[str | None, typer.Option("--fix-location")] = None,
    note: Annotated[str | None, typer.Option("--note", help="Why; kept in the history.")] = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a finding's fields or status (each change is dated in its history)."""
    changes: dict[str, Any] = {
        k: v
        for k, v in {
            "owner": owner,
            "team": team,
            "severity": severity,
            "proposed_remediation": remediation,
            "capability": capability,
            "change_type": change_type,
            "fix_location": fix_location,
            "target_date": _date(target_date, "--target-date"),
        }.items()
        if v is not None
    }
    if not changes and status is None and note is None:
        raise UsageError("nothing to update; give --status, --owner, --target-date, ...")
    sla = _sla(ctx)
    with state(ctx).store().session() as session:
        finding = service.get_finding(session, finding_id)
        if changes:
            service.update_fields(session, finding, changes, sla=sla, author=author(by))
        if status is not None:
            service.set_status(
                session,
                finding,
                status,
                note=note,
                expires=_date(expires, "--expires"),
                author=author(by),
            )
        elif note:
            service.add_note(session, finding, text=note, author=author(by))
        if as_json:
            print_json(finding_summary(finding))
            return
        console.print(f"{finding.id}: {finding.status}", markup=False)


@finding_app.command("close")
def close(
    ctx: typer.Context,
    finding_id: Annotated[str, typer.Argument(help="F-001")],
    as_: Annotated[
        str, typer.Option("--as", help="resolved, verified, wont_do or risk_accepted.")
    ] = "resolved",
    expires: Annotated[
        str | None, typer.Option("--expires", help="Expiry of a risk acceptance (YYYY-MM-DD).")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="How it was closed.")] = None,
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Close a finding (resolved by default)."""
    closing = {str(s) for s in FindingStatus if not s.active}
    if as_ not in closing:
        raise UsageError(f"--as must be one of {', '.join(sorted(closing))}, not '{as_}'")
    with state(ctx).store().session() as session:
        finding = service.get_finding(session, finding_id)
        service.set_status(
            session, finding, as_, note=note, expires=_date(expires, "--expires"), author=author(by)
        )
        if as_json:
            print_json(finding_summary(finding))
            return
        console.print(f"{finding.id}: {finding.status}", markup=False)


@finding_app.command("rank")
def rank(
    ctx: typer.Context,
    team: Annotated[str | None, typer.Option("--team", help="Only this team's fixes.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Show the top N.")] = None,
    full: FullOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Open fixes ranked by how likely the same gap shows up in a real incident."""
    library = state(ctx).library()
    scenarios = [loaded.scenario for loaded in library.scenarios.values()]
    from drillbook.domain.finding.rank_store import rank_open_fixes
    from drillbook.storage.bulk import bulk_read

    with bulk_read(), state(ctx).store().reading() as session:
        ranked = rank_open_fixes(session, scenarios, clock.today(), team=team, limit=limit)
        if as_json:
            print_json(
                [
                    {
                        "rank": i + 1,
                        "id": r.finding.id,
                        "score": r.score,
                        "change_type": r.change_type,
                        "capability": r.finding.capability,
                        "capability_from": r.finding.capability_from,
                        "severity": r.finding.severity,
                        "owner": r.finding.owner,
                        "terms": r.terms,
                        "recurred_in": list(r.recurred_in),
                        "why": r.why,
                    }
                    for i, r in enumerate(ranked)
                ]
            )
            return
        console.print(
            table(
                "Fix list by likelihood of reuse",
                ["#", "Id", "Score", "Change", "Capability (from)", "Fix", "Owner", "Why"],
                [
                    (
                        i + 1,
                        r.finding.id,
                        r.score,
                        r.change_type,
                        f"{r.finding.capability or 'unclassified'}"
                        + (f" ({r.finding.capability_from})" if r.finding.capability_from else ""),
                        r.finding.proposed_remediation.strip()
                        if full and r.finding.proposed_remediation
                        else r.finding.description.strip()
                        if full
                        else clip(r.finding.proposed_remediation or r.finding.description, 60),
                        r.finding.owner,
                        r.why,
                    )
                    for i, r in enumerate(ranked)
                ],
            )
        )


@finding_app.command("export")
def export(
    ctx: typer.Context,
    exercise_id: Annotated[
        str | None,
        typer.Argument(metavar="[ID]", help="Same as -e/--exercise.", show_default=False),
    ] = None,
    exercise: Annotated[
        str | None,
        typer.Option(
            "--exercise",
            "-e",
            help="Exercise id (default: the running one, else the only planned or in review).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Folder to write findings/<scenario>-run-<date>.yaml under "
            "(default: the library), or '-' for stdout.",
        ),
    ] = None,
) -> None:
    """Write an exercise's findings document in the seed's shape, for git."""
    from drillbook.domain.exercise import service as exercises
    from drillbook.flows.exercise_findings import export_text, write_export

    st = state(ctx)
    to_stdout = output is not None and str(output) == "-"
    root = None if to_stdout else (output or st.library_root())
    with st.store().session() as session:
        found = exercises.get_exercise(session, exercise or exercise_id)
        if root is None:
            typer.echo(export_text(session, found)[1], nl=False)
            return
        try:
            target = write_export(session, found, root)
        except OSError as exc:
            raise FileAccessError(root, "write the findings document under", exc) from None
    console.print(f"wrote {target}", markup=False)


@finding_app.command("import")
def import_(
    ctx: typer.Context,
    path: Annotated[
        Path,
        typer.Argument(help="A findings/<scenario>-run-<date>.yaml file, or '-' for stdin."),
    ],
    by: ByOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Read a findings document back; idempotent, conflicts are reported, not overwritten."""
    from drillbook.flows.exercise_findings import import_document, read_document

    st = state(ctx)
    document = read_document(path)
    library = st.library()
    scenario = library.scenarios.get(document.scenario)
    sla = library.program.sla if library.program else None
    with st.store().session() as session:
        result = import_document(
            session,
            path,
            scenario=scenario.scenario if scenario else None,
            sla=sla,
            author=author(by),
        )
    if as_json:
        print_json(result.as_dict())
    else:
        console.print(
            f"{path}: {result.exercise}; created {len(result.created)}, "
            f"unchanged {len(result.unchanged)}, conflicts {len(result.conflicts)}",
            markup=False,
        )
        for conflict in result.conflicts:
            console.print(f"conflict: {conflict}", style="yellow", markup=False)
    if result.conflicts:
        raise typer.Exit(1)
