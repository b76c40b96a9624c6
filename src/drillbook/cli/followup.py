"""Command: ``drillbook followup`` - did each fix from a reported exercise move?"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Annotated

import typer

from drillbook.cli.app import app
from drillbook.cli.context import author, state
from drillbook.cli.output import console, table
from drillbook.documents.durations import parse_duration
from drillbook.flows.followup import followup_items, record_followup, verify_at_followup


@app.command("followup")
def followup(
    ctx: typer.Context,
    days: Annotated[
        int | None,
        typer.Option(
            "--days",
            help="Look at exercises reported at least this many days ago "
            "(default: cadence.followup_after in drillbook.yaml, 30).",
            show_default=False,
        ),
    ] = None,
    team: Annotated[str | None, typer.Option("--team", help="Only this team's exercises.")] = None,
    record: Annotated[
        bool, typer.Option("--record", help="Mark the exercises as followed up on their timelines.")
    ] = False,
    verify: Annotated[
        list[str] | None,
        typer.Option(
            "--verify",
            help="A tabletop finding whose fix was shown to work (repeatable; needs --note).",
        ),
    ] = None,
    note: Annotated[
        str | None, typer.Option("--note", help="How the fixes given to --verify were shown.")
    ] = None,
    by: Annotated[str | None, typer.Option("--by", help="Who ran the follow-up.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List each fix with whether it moved; unmoved ones carry over to the next brief."""
    st = state(ctx)
    if days is None:
        program = st.library().program
        days = parse_duration(program.cadence.followup_after).days if program else 30
    from drillbook.storage.bulk import bulk_read

    if as_json and not record and not verify:
        # only reads: the database writes each item's JSON, streamed as it is read
        from drillbook.flows.followup import followup_item_texts

        with st.store().reading() as session:
            _stream_followup(days, followup_item_texts(session, days=days, team=team))
        return
    with bulk_read(), st.store().session() as session:
        verified = verify_at_followup(session, verify or [], note=note, author=author(by))
        items = followup_items(session, days=days, team=team)
        recorded = record_followup(session, items, author=author(by)) if record else []
        if as_json:
            from drillbook.cli.streaming import TIGHT, print_json_compact
            from drillbook.flows.followup import item_summary

            print_json_compact(
                {
                    "days": days,
                    "recorded": recorded,
                    "verified": verified,
                    "items": [item_summary(i) for i in items],
                },
                separators=TIGHT,
            )
            return
        console.print(
            table(
                f"Follow-up of fixes ({days} days after the report)",
                ["Exercise", "Finding", "Owner", "Target", "Status", "Moved", "Last change"],
                [
                    (
                        i.exercise.label,
                        i.finding.id,
                        i.finding.owner,
                        i.finding.target_date,
                        i.status,
                        "yes" if i.moved else "NO",
                        i.last_change,
                    )
                    for i in items
                ],
            )
        )
        unmoved = sum(1 for i in items if not i.moved)
        if unmoved:
            console.print(
                f"{unmoved} fix(es) did not move: they open the next tabletop's "
                "brief for the team.",
                markup=False,
            )
        for finding_id in verified:
            console.print(f"{finding_id}: verified", markup=False)
        for label in recorded:
            console.print(f"{label}: followed up", markup=False)


def _stream_followup(days: int, items: Iterator[str], *, batch: int = 2000) -> None:
    """The document ``print_json_compact(..., separators=TIGHT)`` writes for a follow-up
    that recorded and verified nothing, with the items' JSON texts as they come
    (``batch`` items a write)."""
    out = sys.stdout
    out.write(f'{{"days":{days},"recorded":[],"verified":[],"items":[')
    waiting: list[str] = []
    first = True
    for text in items:
        waiting.append(text)
        if len(waiting) == batch:
            out.write(("" if first else ",") + ",".join(waiting))
            first, waiting = False, []
    if waiting:
        out.write(("" if first else ",") + ",".join(waiting))
    out.write("]}\n")
    out.flush()
