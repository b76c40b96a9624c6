"""Render the tabletop report as Markdown, HTML or PDF, all from one document model.

:func:`drillbook.reports.document.build_document` lays the report out once; this module
writes that layout as Markdown (for git and tickets) and as a self-contained HTML page
(inline style, no scripts, no outside assets, so it can be mailed or archived as one
file). :mod:`drillbook.reports.pdf` draws the same blocks on paper.
"""

from __future__ import annotations

from enum import StrEnum
from html import escape

from drillbook.reports.data import ReportData
from drillbook.reports.document import (
    Block,
    Bullets,
    Document,
    Heading,
    Inline,
    Notice,
    Paragraph,
    build_document,
)


class ReportFormat(StrEnum):
    MARKDOWN = "md"
    HTML = "html"
    PDF = "pdf"


# -- Markdown ---------------------------------------------------------------------------


def _md_inline(content: Inline, *, in_table: bool = False) -> str:
    out = []
    for span in content:
        value = span.text.replace("|", "\\|").replace("\n", " ") if in_table else span.text
        if span.style == "code" and value:
            out.append(f"`{value}`")
        elif span.style == "missed" or (span.style in ("strong", "time") and not in_table):
            out.append(f"**{value}**" if value else "")
        else:
            out.append(value)
    return "".join(out)


def _md_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"{'#' * block.level} {block.text}"
    if isinstance(block, Paragraph):
        if block.keep_lines:
            return "".join(span.text for span in block.content).strip()
        return _md_inline(block.content).strip()
    if isinstance(block, Notice):
        first, *rest = block.lines
        return "\n".join([f"> **{first}**", *(f"> {line}" for line in rest)])
    if isinstance(block, Bullets):
        return "\n".join(f"- {_md_inline(item)}" for item in block.items)
    header = "|" + "".join(f" {c} |" if c else " |" for c in block.columns)
    lines = [header, "|" + "---|" * len(block.columns)]
    for row in block.rows:
        cells = [_md_inline(cell, in_table=True) for cell in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def document_markdown(document: Document) -> str:
    return "\n\n".join(_md_block(b) for b in document.blocks) + "\n"


# -- HTML --------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
.counsel { border: 2px solid #8a1c1c; padding: 0.5rem 1rem; background: #fbeeee; }
.missed { color: #8a1c1c; font-weight: bold; }
.time { font-family: ui-monospace, monospace; white-space: nowrap; }
"""  # noqa: E501


def _html_inline(content: Inline) -> str:
    tags = {"strong": "strong", "code": "code"}
    out = []
    for span in content:
        value = escape(span.text)
        if span.style in tags:
            out.append(f"<{tags[span.style]}>{value}</{tags[span.style]}>")
        elif span.style in ("time", "missed") and value:
            out.append(f'<span class="{span.style}">{value}</span>')
        else:
            out.append(value)
    return "".join(out)


def _html_block(block: Block) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{escape(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        style = ' style="white-space: pre-line"' if block.keep_lines else ""
        return f"<p{style}>{_html_inline(block.content)}</p>"
    if isinstance(block, Notice):
        first, *rest = block.lines
        lines = [f"<p><strong>{escape(first)}</strong></p>"]
        lines += [f"<p>{escape(line)}</p>" for line in rest]
        return f'<div class="counsel">{"".join(lines)}</div>'
    if isinstance(block, Bullets):
        return "<ul>" + "".join(f"<li>{_html_inline(i)}</li>" for i in block.items) + "</ul>"
    rows = []
    if block.has_header:
        rows.append("<tr>" + "".join(f"<th>{escape(c)}</th>" for c in block.columns) + "</tr>")
    for row in block.rows:
        cells = [
            f"<th>{_html_inline(cell)}</th>"
            if index == 0 and not block.has_header
            else f"<td>{_html_inline(cell)}</td>"
            for index, cell in enumerate(row)
        ]
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return "<table>" + "\n".join(rows) + "</table>"


def document_html(document: Document, subtitle: str = "") -> str:
    title = escape(document.title + (f" ({subtitle})" if subtitle else ""))
    body = "\n".join(_html_block(b) for b in document.blocks)
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{body}\n"
        "</body>\n</html>\n"
    )


# -- entry points ------------------------------------------------------------------------


def render_markdown(report: ReportData) -> str:
    return document_markdown(build_document(report))


def render_html(report: ReportData) -> str:
    return document_html(build_document(report), report.run_date.isoformat())


def render_pdf(report: ReportData) -> bytes:
    from drillbook.reports.pdf import document_pdf

    return document_pdf(build_document(report), subject=report.exercise_label)


def render(report: ReportData, fmt: ReportFormat) -> str | bytes:
    if fmt == ReportFormat.MARKDOWN:
        return render_markdown(report)
    if fmt == ReportFormat.HTML:
        return render_html(report)
    return render_pdf(report)
