"""Command: ``drillbook finding draft`` - the fix list drafted from an exercise's timeline.

Kept apart from :mod:`drillbook.cli.finding` (the backlog's everyday commands): this is
the third pass of the first seed, with or without a model.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from drillbook.cli.app import finding_app
from drillbook.cli.context import state
from drillbook.cli.output import console, err_console, print_json, table


@finding_app.command("draft")
def draft(
    ctx: typer.Context,
    exercise_id: Annotated[
        str | None,
        typer.Argument(
            help="Exercise id (3 or EX-3). Default: the one running.", show_default=False
        ),
    ] = None,
    llm: Annotated[
        bool,
        typer.Option(
            "--llm",
            help="Ask an OpenAI-compatible endpoint to draft the gaps; falls back to the "
            "deterministic draft. What was sent and received is kept on the timeline.",
        ),
    ] = False,
    llm_url: Annotated[
        str | None,
        typer.Option("--llm-url", help="Endpoint base URL; default DRILLBOOK_LLM_URL or llm.url."),
    ] = None,
    save: Annotated[bool, typer.Option("--save", help="Open one finding per drafted gap.")] = False,
    by: Annotated[
        str | None, typer.Option("--by", help="Who drafted it.", show_default=False)
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Draft the fix list from the observer's notes, the timeline and missed criteria;
    each gap tagged policy, configuration or training, with its evidence."""
    from drillbook.cli.context import author
    from drillbook.domain.exercise import service as exercises
    from drillbook.flows.finding_draft import (
        deterministic_result,
        draft_with_model,
        save_drafts,
    )

    cli = state(ctx)
    library = cli.library()
    program = library.program
    endpoint = None
    if llm:
        from drillbook.planning.llm_client import resolve_endpoint

        endpoint = resolve_endpoint(program.llm if program else None, llm_url)
    with cli.store().session() as session:
        exercise = exercises.get_exercise(session, exercise_id)
        if endpoint is not None:
            result = draft_with_model(session, exercise, endpoint, author=author(by))
        else:
            result = deterministic_result(exercise)
        saved = (
            save_drafts(
                session,
                exercise,
                result.gaps,
                sla=program.sla if program else None,
                author=author(by),
            )
            if save
            else []
        )
        data: dict[str, Any] = {
            "exercise": result.exercise,
            "by_model": result.by_model,
            "notice": result.notice,
            "gaps": [g.model_dump(mode="json") for g in result.gaps],
            "saved": [f.id for f in saved],
        }
    if as_json:
        print_json(data)
        return
    if llm:
        err_console.print(
            ("note: " if result.by_model else "warning: ") + result.notice, markup=False
        )
    console.print(
        table(
            f"Draft fix list for {result.exercise}",
            ["#", "Gap", "Change", "Capability", "Severity", "Evidence"],
            [
                (
                    index + 1,
                    gap.description,
                    gap.change_type,
                    gap.capability,
                    gap.severity,
                    "; ".join(
                        (f"{e.offset} " if e.offset else "") + f"{e.kind}: {e.text}"[:80]
                        for e in gap.evidence
                    ),
                )
                for index, gap in enumerate(result.gaps)
            ],
        )
    )
    if saved:
        console.print(f"opened {', '.join(f.id for f in saved)}", markup=False)
    elif result.gaps:
        console.print("review it, then open them with --save", markup=False)
