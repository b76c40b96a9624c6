"""Markdown (default), HTML and JSON for the facilitator's script and the brief.

Markdown is what people paste into a doc or a ticket, so it is the source: HTML is the
same Markdown rendered by markdown-it with raw HTML disabled (a scenario's text can never
inject markup into the page), wrapped in a small self-contained page. JSON is the data
for scripts and the web app.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from enum import StrEnum
from html import escape

from markdown_it import MarkdownIt

from drillbook.planning.brief import Brief, weekend_note
from drillbook.planning.script import FacilitatorScript


class OutputFormat(StrEnum):
    MD = "md"
    HTML = "html"
    JSON = "json"


_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#1d1d1f}table{border-collapse:collapse}td,th{border:1px solid "
    "#ccc;padding:.3rem .6rem;text-align:left;vertical-align:top}h1{font-size:1.6rem}"
)


def _when(value: datetime | None) -> str:
    return value.strftime("%A %d %B %Y, %H:%M UTC") if value else "(date not set)"


def _day(value: date) -> str:
    return value.strftime("%A %d %B %Y")


def _deadline(value: datetime | None) -> str:
    return _when(value) + weekend_note(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def script_markdown(script: FacilitatorScript) -> str:
    out = [
        f"# Facilitator's script: {script.title}",
        "",
        f"Scenario `{script.scenario_id}` · {script.duration_minutes} minutes"
        + (
            f" (scenario written for {script.scenario_minutes})"
            if script.duration_minutes != script.scenario_minutes
            else ""
        ),
        "",
    ]
    if script.suggestion:
        out += [f"> **Suggestion:** {script.suggestion}", ""]
    if script.variations:
        out += ["## Variations in effect", ""] + [f"- {v}" for v in script.variations] + [""]
    out += ["## Phases on the clock", "", "| Phase | Minutes |", "|---|---|"]
    out += [
        f"| {p.name.label} | {round(p.start_minute)}-{round(p.end_minute)} |" for p in script.phases
    ]
    out += ["", "## Minute 0: what the facilitator says", ""]
    for line in script.opening:
        if "\n" in line:
            head, _, body = line.partition("\n")
            out += [f"- {head}", ""] + [f"  > {row}" for row in body.splitlines()] + [""]
        else:
            out.append(f"- {line}")
    out += ["", "## Minute by minute", ""]
    for entry in script.entries:
        owner = f" — owner: {entry.owner}" if entry.owner else ""
        if entry.kind == "phase":
            out += ["", f"### Minute {entry.minute}: {entry.text}", ""]
            out += [f"*{d}*" for d in entry.details[:1]] + [""]
            out += [f"- Ask: {d}" for d in entry.details[1:]]
            continue
        label = {
            "inject": "New information",
            "decision": "Decision",
            "escalation": "Escalation (pre-scripted)",
            "clock": "Notification clock",
            "breakout": "Breakout",
        }[entry.kind]
        out.append(f"- **T+{entry.minute} · {label}**{owner}: {_cell(entry.text)}")
        out += [f"  - {_cell(d)}" for d in entry.details]
    if script.clocks:
        out += [
            "",
            "## Notification clocks",
            "",
            "| Jurisdiction | Notice | Deadline | Counted from | Due | Source |",
            "|---|---|---|---|---|---|",
        ]
        out += [
            f"| {c.jurisdiction} | {_cell(c.label)} | {c.deadline} | {_cell(c.trigger)} | "
            f"{_when(c.due) if c.due else 'T+' + c.deadline} | {c.source} |"
            for c in script.clocks
        ]
        out += [
            "",
            "Business days skip weekends only; check public holidays with counsel. "
            "Rehearsal aid, not legal advice.",
        ]
    out += ["", "## Roles", "", "| Role | Person | Duties |", "|---|---|---|"]
    out += [
        f"| {s.label}{'' if s.required else ' (optional)'} | {s.person or '—'} | "
        f"{_cell(s.duties)} |"
        for s in script.roles.seats
    ]
    if script.roles.warnings:
        out += ["", "**Role warnings:**", ""] + [f"- {w}" for w in script.roles.warnings]
    out += ["", "## Observer's checklist", ""]
    out += [f"- [ ] {item}" for item in script.observer_checklist]
    return "\n".join(out).replace("\n\n\n", "\n\n") + "\n"


def brief_markdown(brief: Brief) -> str:
    out = [f"# Tabletop brief: {brief.title}", ""]
    out += [
        "- **When:** "
        + (
            _when(brief.session_start)
            if brief.session_start or brief.session_date is None
            else _day(brief.session_date) + " (start time not set)"
        ),
        f"- **Time-box:** {brief.duration_minutes} minutes",
        f"- **Scenario:** `{brief.scenario_id}`",
    ]
    if brief.send_by:
        out.append(f"- **Send this brief by:** {_when(brief.send_by)}")
    out += ["", "## Scenario", ""] + [
        f"> {row}" if row else ">" for row in brief.statement.splitlines()
    ]
    out += ["", "## Roles", "", "| Role | Person | Duties |", "|---|---|---|"]
    out += [
        f"| {s.label}{'' if s.required else ' (optional)'} | {s.person or '—'} | "
        f"{_cell(s.duties)} |"
        for s in brief.roles.seats
        if s.required or s.person
    ]
    out += ["", "## Agenda", ""] + [f"{i}. {item}" for i, item in enumerate(brief.agenda, 1)]
    out += ["", "## What to bring", ""] + [f"- {item}" for item in brief.bring]
    out += ["", "## Notes", ""] + [f"- {item}" for item in brief.notes]
    if brief.report_due:
        out += [
            "",
            f"Report due: {_deadline(brief.report_due)}. "
            f"Follow-up: {_deadline(brief.followup_on)}.",
        ]
    return "\n".join(out) + "\n"


def markdown_to_html(markdown: str, title: str) -> str:
    """A standalone page; raw HTML in the Markdown is escaped, never passed through."""
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>\n<body>\n{body}"
        "</body></html>\n"
    )


def render_script(script: FacilitatorScript, fmt: OutputFormat) -> str:
    if fmt == OutputFormat.JSON:
        return json.dumps(script.as_dict(), indent=2, ensure_ascii=False) + "\n"
    text = script_markdown(script)
    if fmt == OutputFormat.HTML:
        return markdown_to_html(text, f"Facilitator's script: {script.title}")
    return text


def render_brief(brief: Brief, fmt: OutputFormat) -> str:
    if fmt == OutputFormat.JSON:
        return json.dumps(brief.as_dict(), indent=2, ensure_ascii=False) + "\n"
    text = brief_markdown(brief)
    if fmt == OutputFormat.HTML:
        return markdown_to_html(text, f"Tabletop brief: {brief.title}")
    return text
