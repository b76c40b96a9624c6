"""Render the tabletop report as Markdown, HTML or PDF, all from one document model.

:func:`drillbook.reports.document.build_document` lays the report out once; this module
writes that layout as Markdown (for git and tickets) and as a self-contained HTML page
(inline style, no scripts, no outside assets, so it can be mailed or archived as one
file). :mod:`drillbook.reports.pdf` draws the same blocks on paper.

Figures: HTML inlines the SVG (checked by :func:`drillbook.reports.figures.safe_svg`)
with its caption and a table of its numbers. Markdown cannot hold an SVG, so it links
``FOLDER/SLUG.svg`` when the caller writes the files beside it (:func:`markdown_with_figures`)
and otherwise, as on standard output, a download or MCP, gives the caption and the table
alone: the numbers are all there, only the picture is missing.
"""

from __future__ import annotations

import re
from enum import StrEnum
from html import escape
from urllib.parse import quote

from drillbook.reports.blocks import (
    Block,
    Bullets,
    Document,
    Figure,
    Heading,
    Inline,
    Notice,
    Paragraph,
    Table,
)
from drillbook.reports.data import ReportData
from drillbook.reports.document import build_document


class ReportFormat(StrEnum):
    MARKDOWN = "md"
    HTML = "html"
    PDF = "pdf"


# -- Markdown ---------------------------------------------------------------------------


# Text people or techniques wrote reaches Markdown viewers that render raw HTML and
# fetch linked images: markup characters become entities (shown as the characters) and
# link brackets are escaped, so a decision reading ``<img src=x onerror=...>`` or
# ``![](https://tracker/pixel)`` is shown, never run or fetched.
_MD_UNSAFE = str.maketrans({"<": "&lt;", ">": "&gt;", "[": "\\[", "]": "\\]", "\\": "\\\\"})
# an ``&`` that would start a character reference (``&lt;``, ``&#60;``); any other
# ``&`` (``ATT&CK``) shows as itself and is left alone for people reading the file
_MD_ENTITY = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{0,31};)")


def md_text(text: str) -> str:
    """Text for Markdown that shows as written (see ``_MD_UNSAFE``)."""
    return _MD_ENTITY.sub("&amp;", text).translate(_MD_UNSAFE)


def _md_code(value: str) -> str:
    """A code span that a backtick inside cannot close early (CommonMark: a fence longer
    than any run of backticks inside, padded with a space when the text starts or ends
    with one)."""
    longest = max((len(run) for run in re.findall("`+", value)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def _md_inline(content: Inline, *, in_table: bool = False) -> str:
    out = []
    for span in content:
        value = span.text.replace("\n", " ") if in_table else span.text
        if span.style == "code" and value:
            out.append(_md_code(value.replace("|", "\\|") if in_table else value))
            continue
        value = md_text(value)
        if in_table:
            value = value.replace("|", "\\|")
        if span.style == "missed" or (span.style in ("strong", "time") and not in_table):
            out.append(f"**{value}**" if value else "")
        else:
            out.append(value)
    return "".join(out)


def _md_table(block: Table) -> str:
    header = "|" + "".join(f" {md_text(c)} |" if c else " |" for c in block.columns)
    lines = [header, "|" + "---|" * len(block.columns)]
    for row in block.rows:
        cells = [_md_inline(cell, in_table=True) for cell in row]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _md_figure(block: Figure, folder: str | None) -> str:
    parts = [f"**Figure: {md_text(block.title)}**"]
    if folder is not None:
        alt = md_text(block.title.replace("[", "(").replace("]", ")"))
        parts.append(f"![{alt}]({quote(folder)}/{block.slug}.svg)")
    parts.append(md_text(block.caption))
    if block.data.rows:
        parts.append(_md_table(block.data))
    return "\n\n".join(parts)


def _md_block(block: Block, folder: str | None = None) -> str:
    if isinstance(block, Figure):
        return _md_figure(block, folder)
    if isinstance(block, Heading):
        return f"{'#' * block.level} {md_text(block.text)}"
    if isinstance(block, Paragraph):
        if block.keep_lines:
            return md_text("".join(span.text for span in block.content).strip())
        return _md_inline(block.content).strip()
    if isinstance(block, Notice):
        first, *rest = block.lines
        return "\n".join([f"> **{md_text(first)}**", *(f"> {md_text(line)}" for line in rest)])
    if isinstance(block, Bullets):
        return "\n".join(f"- {_md_inline(item)}" for item in block.items)
    return _md_table(block)


def document_markdown(document: Document, figure_folder: str | None = None) -> str:
    """Markdown; with ``figure_folder``, each figure links ``figure_folder/SLUG.svg``."""
    return "\n\n".join(_md_block(b, figure_folder) for b in document.blocks) + "\n"


def figure_files(document: Document, figure_folder: str) -> dict[str, str]:
    """The SVG files a Markdown report written with ``figure_folder`` links to."""
    return {
        f"{figure_folder}/{b.slug}.svg": b.svg for b in document.blocks if isinstance(b, Figure)
    }


# -- HTML --------------------------------------------------------------------------------

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
.counsel { border: 2px solid #8a1c1c; padding: 0.5rem 1rem; background: #fbeeee; }
.missed { color: #8a1c1c; font-weight: bold; }
.time { font-family: ui-monospace, monospace; white-space: nowrap; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; }
figcaption { font-size: 0.9rem; color: #444; }
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


def _html_table(block: Table) -> str:
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


def _html_figure(block: Figure) -> str:
    # the SVG passed safe_svg when the block was made: our own elements, labels escaped
    numbers = (
        f"<details><summary>The numbers</summary>{_html_table(block.data)}</details>"
        if block.data.rows
        else ""
    )
    return (
        f'<figure id="figure-{escape(block.slug)}">\n{block.svg}'
        f"<figcaption><strong>{escape(block.title)}.</strong> {escape(block.caption)}"
        f"</figcaption>{numbers}</figure>"
    )


def _html_block(block: Block) -> str:
    if isinstance(block, Figure):
        return _html_figure(block)
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
    return _html_table(block)


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
    """Markdown with every figure as its caption and table (no file to link to)."""
    return document_markdown(build_document(report))


def figure_folder_for(report_name: str) -> str:
    """The folder beside ``report_name`` (``EX-3.md``) its figures go in (``EX-3-figures``)."""
    stem = report_name.rsplit("/", 1)[-1]
    stem = stem[: -len(".md")] if stem.lower().endswith(".md") else stem
    return f"{stem}-figures"


def markdown_with_figures(report: ReportData, report_name: str) -> tuple[str, dict[str, str]]:
    """Markdown that links each figure's ``.svg``, and those files (paths relative to the
    report's folder), for a report written to the file ``report_name``."""
    document = build_document(report)
    folder = figure_folder_for(report_name)
    return document_markdown(document, folder), figure_files(document, folder)


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
