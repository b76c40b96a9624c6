"""Commands: ``drillbook schedule``, ``drillbook metrics``, ``drillbook incident ...``.

The program's view: the rehearsal calendar per team, the quarter's numbers with the
failure-mode signals, and real incidents (each one adds a tabletop to the schedule).
Heavy imports happen inside the commands, so ``drillbook --help`` stays fast.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from drillbook.cli.app import app, incident_app
from drillbook.cli.context import state
from drillbook.cli.output import console, print_json, table
from drillbook.errors import StateError

if TYPE_CHECKING:
    from drillbook.domain.program.metrics import Distribution, ProgramMetrics
    from drillbook.flows.schedule import Schedule

SIGNALS_SHOWN = 15  # per kind in the table; --json has every one
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]
TeamOpt = Annotated[str | None, typer.Option("--team", help="Only this team.")]


def _date(value: str | None, what: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise StateError(f"{what} '{value}' is not a date; write YYYY-MM-DD") from None


@app.command("schedule")
def schedule(
    ctx: typer.Context,
    quarters: Annotated[
        int, typer.Option("--quarters", min=1, max=12, help="How many quarters, from this one.")
    ] = 4,
    team: TeamOpt = None,
    start: Annotated[
        str | None, typer.Option("--from", help="First quarter (YYYY-Qn; default: this one).")
    ] = None,
    due: Annotated[bool, typer.Option("--due", help="Only what is overdue.")] = False,
    ics: Annotated[
        Path | None, typer.Option("--ics", help="Also write the schedule as an .ics calendar.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The rehearsal calendar: tabletop, remediation, drill and follow-up per team."""
    from drillbook.domain.program.periods import parse_quarter
    from drillbook.flows.schedule import program_schedule, write_ics

    st = state(ctx)
    library = st.library()
    with st.store().session() as session:
        found = program_schedule(
            session,
            library,
            quarters=quarters,
            team=team,
            start=parse_quarter(start) if start else None,
        )
    items = found.due() if due else found.items
    if ics is not None:
        write_ics(items, ics)
    if as_json:
        print_json(found.as_dict(due_only=due))
    else:
        _print_schedule(found, items, due)
    if due and items:
        raise typer.Exit(1)


def _print_schedule(found: Schedule, items: list[Any], due: bool) -> None:
    title = "Overdue" if due else f"Schedule {found.quarters[0].label}..{found.quarters[-1].label}"
    console.print(
        table(
            f"{title} ({len(items)})",
            ["Due", "Team", "What", "Scenario / plan", "Status", "Record", "Why"],
            [
                (
                    i.due if i.until is None else f"{i.due}..{i.until}",
                    i.team or "all",
                    i.title,
                    i.drill_plan or i.scenario_id,
                    i.status,
                    i.record,
                    i.reason,
                )
                for i in items
            ],
        )
    )
    for note in found.notes:
        console.print(f"note: {note}", markup=False, style="yellow")
    if due and not items:
        console.print("nothing is overdue", markup=False)


@app.command("metrics")
def metrics(
    ctx: typer.Context,
    quarter: Annotated[
        str | None,
        typer.Option("--quarter", help="One quarter (YYYY-Qn); default: the last four."),
    ] = None,
    team: TeamOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Quarterly program metrics and the failure-mode signals, each naming its data."""
    from drillbook.domain.program.periods import parse_quarter
    from drillbook.flows.program import default_period, program_metrics
    from drillbook.storage.bulk import bulk_read

    st = state(ctx)
    library = st.library()
    period = parse_quarter(quarter) if quarter else default_period()
    # only reads; a program's signals are thousands of small objects (see bulk_read)
    with bulk_read():
        # a twin connection runs the longest query beside the others (storage.twin)
        with st.store().reading(twin=True) as session:
            found = program_metrics(session, library, period, team=team)
        if as_json:
            from drillbook.cli.streaming import print_json_compact

            # a program's signals run into thousands: the unindented (C) encoder
            print_json_compact(found.as_dict())
            return
        _print_metrics(found)


def _dist(d: Distribution, unit: str) -> tuple[Any, ...]:
    if not d.n:
        return (0, "-", "-")
    return (d.n, f"{d.median:g}{unit}", f"{d.p90:g}{unit}")


def _print_metrics(found: ProgramMetrics) -> None:
    rows = [*found.teams, found.totals]
    console.print(
        table(
            f"Program {found.period.label}" + (f", team {found.team}" if found.team else ""),
            ["Team", "Tabletops", "Drills", "Opened", "Closed", "Closure rate", "Overdue now"],
            [
                (
                    r.team,
                    r.tabletops,
                    r.drills,
                    r.findings_opened,
                    r.findings_closed,
                    "-" if r.closure_rate is None else f"{r.closure_rate:.0%}",
                    r.overdue,
                )
                for r in rows
            ],
        )
    )
    console.print(
        table(
            "Time to close (days)",
            ["Severity", "Closed", "Median", "p90", "Overdue now"],
            [
                (sev, *_dist(d, "d"), found.overdue_by_severity.get(sev, 0))
                for sev, d in found.time_to_close_days.items()
            ],
        )
    )
    if found.detection:
        console.print(
            table(
                "Detection",
                [
                    "Quarter",
                    "Checks",
                    "Pass rate",
                    "Alert n",
                    "Alert median",
                    "Alert p90",
                    "Ack n",
                    "Ack median",
                    "Ack p90",
                ],
                [
                    (
                        d.quarter,
                        d.checks,
                        "-" if d.pass_rate is None else f"{d.pass_rate:.0%}",
                        *_dist(d.time_to_alert_seconds, "s"),
                        *_dist(d.acknowledgement_seconds, "s"),
                    )
                    for d in found.detection
                ],
            )
        )
    if not found.signals:
        console.print("No failure-mode signal.", markup=False)
        return
    shown: list[Any] = []
    hidden: dict[str, int] = {}
    for signal in found.signals:
        if sum(1 for s in shown if s.kind == signal.kind) < SIGNALS_SHOWN:
            shown.append(signal)
        else:
            hidden[signal.kind] = hidden.get(signal.kind, 0) + 1
    console.print(
        table(
            f"Signals ({len(found.signals)})",
            ["Signal", "Team", "What", "Raised by"],
            [(s.kind, s.team, s.message, ", ".join(s.evidence[:8])) for s in shown],
        )
    )
    for kind, count in hidden.items():
        console.print(f"... and {count} more {kind} signal(s): --json lists all", markup=False)


@incident_app.command("add")
def incident_add(
    ctx: typer.Context,
    title: Annotated[str, typer.Option("--title", help="What happened, in one line.")],
    on: Annotated[
        str | None, typer.Option("--date", help="When it happened (YYYY-MM-DD; default today).")
    ] = None,
    team: TeamOpt = None,
    category: Annotated[
        str | None,
        typer.Option("--category", help="prompt_injection, data_exfiltration, ransomware, ..."),
    ] = None,
    scenario: Annotated[
        str | None, typer.Option("--scenario", help="Scenario id the next tabletop should use.")
    ] = None,
    summary: Annotated[str | None, typer.Option("--summary", help="Short account.")] = None,
    link: Annotated[str | None, typer.Option("--link", help="The post-mortem or ticket.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who records it.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a real incident: the schedule adds a tabletop after it."""
    from drillbook import clock
    from drillbook.cli.context import author
    from drillbook.domain.incident.service import add_incident, covering_exercises

    st = state(ctx)
    library = st.library()
    if scenario is not None:
        library.scenario(scenario)  # a clear error for an unknown id
    categories = {
        sid: str(s.scenario.category) if s.scenario.category else None
        for sid, s in library.scenarios.items()
    }
    with st.store().session() as session:
        incident = add_incident(
            session,
            occurred_on=_date(on, "--date") or clock.today(),
            title=title,
            team=team,
            category=category,
            scenario_id=scenario,
            summary=summary,
            link=link,
            author=author(by),
        )
        covered = [e.label for e in covering_exercises(session, incident, categories)]
        data = _incident_dict(incident) | {"rehearsed_before_by": covered}
    if as_json:
        print_json(data)
        return
    console.print(
        f"{data['id']} recorded; the schedule adds a tabletop after it. Rehearsed before by: "
        + (", ".join(covered) if covered else "no exercise (a gap for the retrospective)"),
        markup=False,
    )


def _incident_dict(incident: Any) -> dict[str, Any]:
    return {
        "id": incident.label,
        "date": incident.occurred_on,
        "title": incident.title,
        "team": incident.team,
        "category": incident.category,
        "scenario": incident.scenario_id,
        "summary": incident.summary,
        "link": incident.link,
    }


@incident_app.command("list")
def incident_list(
    ctx: typer.Context,
    since: Annotated[str | None, typer.Option("--since", help="YYYY-MM-DD.")] = None,
    team: TeamOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Recorded incidents, oldest first."""
    from drillbook.domain.incident.service import list_incidents

    with state(ctx).store().session() as session:
        found = [
            _incident_dict(i)
            for i in list_incidents(session, since=_date(since, "--since"), team=team)
        ]
    if as_json:
        print_json(found)
        return
    console.print(
        table(
            f"Incidents ({len(found)})",
            ["Id", "Date", "Team", "Category", "Title"],
            [(i["id"], i["date"], i["team"], i["category"], i["title"]) for i in found],
        )
    )
