"""The tabletop report as one document model: headings, paragraphs, a notice, tables,
lists of styled text and figures (:mod:`drillbook.reports.blocks`). Markdown, HTML and
PDF are three renderings of the same :class:`Document`, so they cannot disagree, and the
PDF never has to parse Markdown (raw pipes and ``>`` used to leak into it). User text is
always a plain :class:`Span`: no renderer reads markup in it.
"""

from __future__ import annotations

from drillbook.reports.blocks import (
    Block,
    Bullets,
    Document,
    Heading,
    Inline,
    Notice,
    Paragraph,
    Span,
    Table,
    text,
)
from drillbook.reports.data import ReportData, ReportEvent
from drillbook.reports.figures import figure


def _stamp(value: object, fmt: str, missing: str) -> str:
    return value.strftime(fmt) if hasattr(value, "strftime") else missing


def _prepared(r: ReportData) -> str:
    out = r.prepared_on.isoformat()
    if r.report_due is None:
        return out
    first = (
        f"first written {r.first_reported_at.strftime('%Y-%m-%d %H:%M')} UTC, "
        if r.first_reported_at
        else ""
    )
    verdict = "within" if r.on_time else "after"
    due = r.report_due.strftime("%Y-%m-%d %H:%M")
    return f"{out} ({first}{verdict} the deadline of {due} UTC{r.report_due_note})"


def _summary(r: ReportData) -> Table:
    rows: list[tuple[str, Inline]] = []
    if r.organisation:
        rows.append(("Organisation", text(r.organisation)))
    rows += [
        ("Exercise", text(r.exercise_label)),
        ("Scenario", text(r.scenario_id, "code")),
        ("Date of exercise", text(r.run_date.isoformat())),
    ]
    if r.team:
        rows.append(("Team", text(r.team)))
    rows += [
        ("Started (UTC)", text(_stamp(r.started_at, "%Y-%m-%d %H:%M:%S", "not started"))),
        ("Ended (UTC)", text(_stamp(r.ended_at, "%Y-%m-%d %H:%M:%S", "not ended"))),
        ("Exercise time (pauses excluded)", text(r.elapsed)),
        ("Report prepared", text(_prepared(r))),
    ]
    return Table(("", ""), tuple((text(k), v) for k, v in rows), (1, 3))


def _event_item(e: ReportEvent) -> Inline:
    who = f" by {e.who}" if e.who else ""
    return (Span(e.offset, "time"), Span(f" {e.kind}{who}: {' '.join(e.text.split())}"))


def _criteria(r: ReportData) -> list[Block]:
    if not r.criteria:
        return [Paragraph(text("The scenario lists no success criteria."))]
    rows = tuple(
        (
            text(c.key),
            text(c.text),
            text(c.deadline or "end"),
            text("MISSED", "missed") if c.outcome == "missed" else text(c.outcome),
            text(c.detail),
            text(c.evidence_time or "", "time"),
        )
        for c in r.criteria
    )
    blocks: list[Block] = [
        Table(
            ("", "Success criterion", "Deadline", "Outcome", "Evidence", "Time"),
            rows,
            (2, 8, 3, 3, 10, 3),
        )
    ]
    if r.missed:
        count = len(r.missed)
        blocks.append(
            Paragraph(text(f"Gaps: {count} success criteri{'on' if count == 1 else 'a'} not met."))
        )
    return blocks


def _fixes(r: ReportData) -> list[Block]:
    if not r.fixes:
        return [Paragraph(text("No findings were recorded for this exercise."))]

    def tracked(finding_id: str) -> str:
        keys = r.tracker_keys.get(finding_id)
        return f"{finding_id} ({', '.join(keys)})" if keys else finding_id

    rows = tuple(
        (
            text(tracked(f.id)),
            text(f.severity),
            text(f.description),
            text(f.proposed_remediation or ""),
            text(f.owner or "UNASSIGNED"),
            text(f.target_date.isoformat() if f.target_date else "not set"),
            text(f.due_date.isoformat() if f.due_date else ""),
            text(f.status),
            text(f.change_type or ""),
        )
        for f in r.fixes
    )
    columns = ("Id", "Severity", "Gap", "Fix", "Owner", "Target date", "Due (SLA)", "Status")
    blocks: list[Block] = [Table((*columns, "Change"), rows, (2, 2, 6, 6, 3, 3, 3, 3, 2))]
    if r.fix_figure is not None:
        blocks.append(figure(r.fix_figure))
    return blocks


def _program(r: ReportData) -> list[Block]:
    """The team's program around the exercise, as figures (omitted when none was made)."""
    if not r.program_figures:
        return []
    return [
        Heading(2, "7. The team in the program"),
        Paragraph(text(r.program_scope)),
        *(figure(spec) for spec in r.program_figures),
    ]


def build_document(r: ReportData) -> Document:
    """The report's content, in the first seed's order, as blocks."""
    doc = Document(f"Tabletop exercise report: {r.title}")
    doc.add(Heading(1, doc.title))
    if r.counsel:
        limited = "Privileged and confidential. Limited distribution"
        limited += f": {', '.join(r.distribution)}." if r.distribution else "."
        doc.add(Notice((r.counsel_label, limited)))
    doc.add(_summary(r))
    doc.add(
        Heading(2, "1. Date and participants"),
        Paragraph(text(f"Exercise run on {r.run_date.isoformat()}.")),
        Table(
            ("Person", "Role"),
            tuple((text(p), text(role)) for p, role in r.participants)
            or ((text("(none recorded)"), text("")),),
            (1, 1),
        ),
        Heading(2, "2. Scenario brief"),
        Paragraph(
            (
                Span(r.title, "strong"),
                Span(" ("),
                Span(r.scenario_id, "code"),
                Span(f", time-box {r.duration})" if r.duration else ")"),
            )
        ),
        Paragraph((Span(r.initial_state),), keep_lines=True),
        Paragraph(text("Scheduled injects:")),
        Bullets(tuple((Span(t, "time"), *text(f": {d}")) for t, d in r.schedule)),
    )
    if r.discussion_questions:
        doc.add(
            Paragraph(text("Discussion questions:")),
            Bullets(tuple(text(q) for q in r.discussion_questions)),
        )
    doc.add(Heading(2, "3. What the team did, phase by phase"))
    for section in r.phases:
        started = f" (from {section.started})" if section.started else ""
        doc.add(
            Heading(3, f"{section.label}{started}"),
            Bullets(
                tuple(_event_item(e) for e in section.events)
                or (text("Nothing was logged in this phase."),)
            ),
        )
    if not r.phases:
        doc.add(Paragraph(text("No phase was started.")))
    doc.add(Heading(2, "4. What the team missed"), *_criteria(r))
    doc.add(
        Paragraph(text("Injects with no decision after them:")),
        Bullets(
            tuple(
                (Span(e.offset, "time"), *text(f": {' '.join(e.text.split())}"))
                for e in r.unanswered
            )
            or (text("None: every inject was followed by a decision."),)
        ),
    )
    doc.add(Heading(2, "5. Fix list"), *_fixes(r))
    doc.add(
        Heading(2, "6. Next tabletop"),
        Paragraph(
            (Span("Next tabletop: "), Span(r.next_tabletop.isoformat(), "strong"), Span("."))
        ),
    )
    if r.next_actions:
        doc.add(Paragraph(text("Next actions:")), Bullets(tuple(text(a) for a in r.next_actions)))
    doc.add(*_program(r))
    doc.add(
        Heading(2, "Appendix: full timeline"),
        Table(
            ("Time", "UTC", "Kind", "Phase", "Who", "What"),
            tuple(
                (
                    text(e.offset, "time"),
                    text(e.at.strftime("%H:%M:%S"), "time"),
                    text(e.kind),
                    text(e.phase or ""),
                    text(e.who),
                    text(e.text),
                )
                for e in r.timeline
            ),
            (3, 3, 4, 4, 4, 10),
        ),
    )
    return doc
