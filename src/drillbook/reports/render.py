"""Render the tabletop report as Markdown, HTML or PDF.

Templates live in ``reports/templates/report_*.j2``. HTML is self-contained (inline
style, no scripts, no outside assets) so that it can be mailed or archived as one file.
PDF uses fpdf2, a pure-Python optional extra (``pip install 'drillbook[pdf]'``); it is
laid out from the Markdown text so the two never disagree.
"""

from __future__ import annotations

from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from drillbook.errors import ConfigError
from drillbook.flows.exercise_report import ReportData


class ReportFormat(StrEnum):
    MARKDOWN = "md"
    HTML = "html"
    PDF = "pdf"


def _environment(autoescape: bool) -> Environment:
    folder = Path(str(resources.files("drillbook.reports") / "templates"))
    env = Environment(
        loader=FileSystemLoader(folder),
        autoescape=autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["oneline"] = lambda text: " ".join(str(text or "").split())
    env.filters["cell"] = lambda text: " ".join(str(text or "").split()).replace("|", "\\|")
    return env


def render_markdown(report: ReportData) -> str:
    return _environment(False).get_template("report_markdown.j2").render(r=report)


def render_html(report: ReportData) -> str:
    return _environment(True).get_template("report_html.j2").render(r=report)


def render_pdf(report: ReportData) -> bytes:
    """A plain, readable PDF of the Markdown report (headings, paragraphs, lists)."""
    try:
        from fpdf import FPDF
    except ImportError:
        raise ConfigError(
            "PDF reports need the optional extra: pip install 'drillbook[pdf]' "
            "(or use --format md / html)"
        ) from None
    pdf: Any = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_title(f"Tabletop report {report.exercise_label}")
    width = pdf.w - pdf.l_margin - pdf.r_margin
    for raw in render_markdown(report).splitlines():
        line = _latin1(raw.rstrip())
        if not line:
            pdf.ln(3)
            continue
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            pdf.set_font("Helvetica", "B", {1: 16, 2: 13}.get(level, 11))
            pdf.multi_cell(width, 7, line.lstrip("# ").strip(), new_x="LMARGIN", new_y="NEXT")
            continue
        pdf.set_font("Helvetica", "", 9)
        text = line.replace("**", "").replace("`", "")
        pdf.multi_cell(width, 5, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _latin1(text: str) -> str:
    # The core PDF fonts cover Latin-1; replace what they cannot draw rather than fail.
    swaps = {
        "\u2014": "-",
        "\u2013": "-",
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2192": "->",
        "\u2026": "...",
        "\u00d7": "x",
        "\u2265": ">=",
    }
    for char, plain in swaps.items():
        text = text.replace(char, plain)
    return text.encode("latin-1", errors="replace").decode("latin-1")


def render(report: ReportData, fmt: ReportFormat) -> str | bytes:
    if fmt == ReportFormat.MARKDOWN:
        return render_markdown(report)
    if fmt == ReportFormat.HTML:
        return render_html(report)
    return render_pdf(report)
