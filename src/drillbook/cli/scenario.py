"""Commands: scenario list, show, export."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from drillbook.cli.app import scenario_app
from drillbook.cli.context import state
from drillbook.cli.files import OutputOption, is_stdio, write_output
from drillbook.cli.output import cell, console, print_json, table
from drillbook.documents.yaml_io import dump_text, load_roundtrip
from drillbook.domain.scenario.enums import Category, Difficulty
from drillbook.domain.scenario.models import Scenario
from drillbook.errors import ConflictError
from drillbook.library.loader import LoadedScenario


def _flow(text: str) -> str:
    """Re-flow hard-wrapped YAML blocks for a table cell; blank lines stay paragraphs."""
    return "\n".join(" ".join(part.split()) for part in text.strip().split("\n\n"))


def _source(loaded: LoadedScenario) -> str:
    return "builtin" if loaded.builtin else "library"


def _matches(
    loaded: LoadedScenario,
    category: Category | None,
    difficulty: Difficulty | None,
    tags: list[str],
) -> bool:
    scenario = loaded.scenario
    if category is not None and scenario.category != category:
        return False
    if difficulty is not None and scenario.difficulty != difficulty:
        return False
    own = {tag.lower() for tag in scenario.tags}
    return all(tag.lower() in own for tag in tags)


@scenario_app.command("list")
def list_scenarios(
    ctx: typer.Context,
    category: Annotated[Category | None, typer.Option(help="Only this incident type.")] = None,
    difficulty: Annotated[Difficulty | None, typer.Option(help="Only this difficulty.")] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", help="Only scenarios with this tag (repeatable: all must match)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON for scripts.")] = False,
) -> None:
    """The scenarios of the library and the built-in ones, in a table."""
    library = state(ctx).library()
    rows = sorted(
        (s for s in library.scenarios.values() if _matches(s, category, difficulty, tag or [])),
        key=lambda s: s.scenario.id,
    )
    if as_json:
        print_json(
            [
                {
                    "id": s.scenario.id,
                    "title": s.scenario.title,
                    "category": s.scenario.category,
                    "difficulty": s.scenario.difficulty,
                    "severity": s.scenario.severity,
                    "duration": s.scenario.duration,
                    "tags": s.scenario.tags,
                    "source": _source(s),
                    "path": s.path,
                }
                for s in rows
            ]
        )
        return
    listing = table(
        f"Scenarios ({len(rows)})",
        ["id", "title", "category", "difficulty", "duration", "source"],
        (
            (
                s.scenario.id,
                s.scenario.title,
                s.scenario.category.value if s.scenario.category else "",
                s.scenario.difficulty.value if s.scenario.difficulty else "",
                s.scenario.duration,
                _source(s),
            )
            for s in rows
        ),
    )
    listing.columns[0].no_wrap = True  # ids are copied into commands: keep them whole
    console.print(listing)


def _header(loaded: LoadedScenario) -> Panel:
    s = loaded.scenario
    facts = [
        ("id", s.id),
        ("duration", s.duration),
        ("category", s.category.value if s.category else None),
        ("severity", s.severity.value if s.severity else None),
        ("difficulty", s.difficulty.value if s.difficulty else None),
        ("tags", ", ".join(s.tags) or None),
        ("owner", s.owner),
        ("last reviewed", s.last_reviewed.isoformat() if s.last_reviewed else None),
        ("variant of", s.variant_of),
        ("source", f"{_source(loaded)}: {loaded.path}"),
    ]
    body = Text()
    for label, value in facts:
        if value:
            body.append(f"{label:>14}  ", style="dim")
            body.append(f"{value}\n")
    if s.summary:
        body.append(f"\n{_flow(s.summary)}\n")
    return Panel(body, title=Text(s.title, style="bold"), title_align="left", border_style="cyan")


def _row(out: Table, *values: Any) -> None:
    """Add a row whose text is shown as written (never read as Rich markup)."""
    out.add_row(*(cell(value) for value in values))


def _phases(s: Scenario) -> Table:
    out = Table(title="Phases", header_style="bold", expand=True)
    for column in ("phase", "window", "goal and questions"):
        out.add_column(column, overflow="fold")
    for window in s.phase_windows():
        lines = [window.goal or ""] + [f"• {q}" for q in window.questions]
        _row(
            out,
            window.name.label,
            f"{window.start}–{window.end}",
            "\n".join(line for line in lines if line),
        )
    return out


def _injects(s: Scenario) -> Table:
    out = Table(title="Injects", header_style="bold", expand=True)
    for column in ("time", "phase", "to", "what drops"):
        out.add_column(column, overflow="fold")
    for inject in s.injects:
        phase = inject.phase or s.phase_at(inject.minute)
        _row(
            out,
            f"t+{inject.time}",
            phase.label,
            ", ".join(inject.audience) or "all",
            _flow(inject.description),
        )
    return out


def _decisions(s: Scenario) -> Table:
    out = Table(title="Decision points", header_style="bold", expand=True)
    for column in ("phase", "at", "owner", "decision", "must figure out"):
        out.add_column(column, overflow="fold")
    for point in s.decision_points:
        question = point.question
        if point.options:
            question += "".join(f"\n → {option}" for option in point.options)
        _row(
            out,
            point.phase.label,
            point.at or "",
            point.owner_role or "",
            question,
            "\n".join(f"• {item}" for item in point.must_figure_out),
        )
    return out


def _escalations(s: Scenario) -> Table:
    out = Table(
        title="Escalations (drop when the team moves too fast)", header_style="bold", expand=True
    )
    for column in ("trigger", "what drops"):
        out.add_column(column, overflow="fold")
    for escalation in s.escalations:
        _row(out, escalation.trigger, _flow(escalation.description))
    return out


def _criteria(s: Scenario) -> Table:
    out = Table(title="Success criteria", header_style="bold", expand=True)
    for column in ("criterion", "deadline", "measured by"):
        out.add_column(column, overflow="fold")
    for number, criterion in enumerate(s.criteria, start=1):
        evidence = criterion.suggested
        measured: str | Text = Text("tagged evidence only", style="yellow")
        if evidence is not None:
            parts = [evidence.event.value]
            if evidence.role:
                parts.append(f"role {evidence.role}")
            if evidence.phase:
                parts.append(f"in {evidence.phase.value}")
            if evidence.contains:
                parts.append(f"containing '{evidence.contains}'")
            how = "scenario mapping: " if criterion.evidence else "tagged; suggests "
            measured = how + ", ".join(parts)
        key = criterion.id or f"C{number}"
        _row(
            out,
            Text(f"{key}  {criterion.text}"),
            f"by t+{criterion.by}" if criterion.by else "—",
            measured,
        )
    return out


def render_scenario(loaded: LoadedScenario) -> Group:
    """A scenario laid out for reading before a tabletop."""
    s = loaded.scenario
    parts: list[Any] = [_header(loaded)]
    parts.append(Panel(Text(s.initial_state.strip()), title="Initial state", title_align="left"))
    parts.append(
        table(
            "Participants",
            ["role", "typical attendee", "required"],
            (
                (p.role, p.typical_attendee, "yes" if p.required else "optional")
                for p in s.participants
            ),
        )
    )
    parts.append(_phases(s))
    parts.append(_injects(s))
    if s.decision_points:
        parts.append(_decisions(s))
    if s.escalations:
        parts.append(_escalations(s))
    if s.discussion_questions:
        questions = Text("\n".join(f"• {q}" for q in s.discussion_questions))
        parts.append(Panel(questions, title="Discussion questions", title_align="left"))
    parts.append(_criteria(s))
    return Group(*parts)


@scenario_app.command("show")
def show(
    ctx: typer.Context,
    scenario_id: Annotated[str, typer.Argument(metavar="ID", help="Scenario id.")],
    as_json: Annotated[
        bool, typer.Option("--json", help="JSON: the scenario and its parsed criteria and phases.")
    ] = False,
    as_yaml: Annotated[bool, typer.Option("--yaml", help="The YAML as written.")] = False,
) -> None:
    """Show one scenario: initial state, phases, injects, decisions, criteria."""
    loaded = state(ctx).library().scenario(scenario_id)
    s = loaded.scenario
    if as_yaml:
        sys.stdout.write(dump_text(load_roundtrip(loaded.path)))
        return
    if as_json:
        print_json(
            {
                "scenario": s.model_dump(mode="json", exclude_none=True),
                "source": _source(loaded),
                "path": loaded.path,
                "phase_windows": [
                    w.model_dump(mode="json", exclude_none=True) for w in s.phase_windows()
                ],
                "criteria": [c.model_dump(mode="json", exclude_none=True) for c in s.criteria],
            }
        )
        return
    console.print(render_scenario(loaded))


@scenario_app.command("export")
def export(
    ctx: typer.Context,
    scenario_id: Annotated[str, typer.Argument(metavar="ID", help="Scenario id.")],
    output: OutputOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite FILE.")] = False,
) -> None:
    """Write a scenario's YAML as written (keys, order and comments kept)."""
    loaded = state(ctx).library().scenario(scenario_id)
    text = dump_text(load_roundtrip(loaded.path))
    if output is not None and not is_stdio(output) and output.is_file() and not force:
        raise ConflictError(f"{output} already exists (pass --force to overwrite)")
    written = write_output(output, text)
    if written is not None:
        console.print(f"wrote {written}", markup=False)
