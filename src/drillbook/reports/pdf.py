"""The report on paper: the document model drawn with fpdf2 (the optional ``pdf`` extra).

Tables are real tables (ruled, repeated header rows across pages), the counsel label is a
boxed notice, text is left-aligned (never justified into gaps), and every character is
drawn in DejaVu Sans, shipped in ``reports/fonts`` under its licence (Bitstream Vera /
public domain, ``fonts/LICENSE``), so ``Łukasz Żółć`` or ``Σωκράτης`` print as written.
Nothing is parsed as Markdown: user text is drawn as plain text. Figures are drawn as
vector shapes from their SVG by :mod:`drillbook.reports.pdf_figure`, with their caption
(the numbers in words) beneath.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from drillbook.errors import ConfigError
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
from drillbook.reports.pdf_figure import draw_svg, svg_size

FONT = "DejaVuSans"
_HEADING_SIZES = {1: 16, 2: 13, 3: 11}
_BODY = 9
_TABLE = 7.5
_NOTICE_FILL = (251, 238, 238)
_NOTICE_LINE = (138, 28, 28)
_HEADER_FILL = (235, 235, 235)
_FIGURE_WIDTH = 150  # mm: a 640x320 chart is 75 mm tall, two fit on a page with text


def font_path(bold: bool = False) -> Path:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return Path(str(resources.files("drillbook.reports") / "fonts" / name))


def _plain(content: Inline) -> str:
    return "".join(span.text for span in content)


class _Writer:
    def __init__(self, pdf: Any) -> None:
        self.pdf = pdf
        self.width = pdf.w - pdf.l_margin - pdf.r_margin

    def font(self, size: float, bold: bool = False) -> None:
        self.pdf.set_font(FONT, "B" if bold else "", size)

    def inline(self, content: Inline, size: float = _BODY, height: float = 4.6) -> None:
        """Styled runs that wrap at words; ``pdf.write`` never justifies."""
        for span in content:
            bold = span.style in ("strong", "missed", "time")
            self.font(size, bold)
            if span.style == "missed":
                self.pdf.set_text_color(*_NOTICE_LINE)
            self.pdf.write(height, span.text)
            self.pdf.set_text_color(0, 0, 0)
        self.pdf.ln(height)

    def block(self, block: Block) -> None:
        pdf = self.pdf
        if isinstance(block, Heading):
            pdf.ln(2 if block.level > 1 else 0)
            self.font(_HEADING_SIZES.get(block.level, _BODY), bold=True)
            pdf.multi_cell(self.width, 7, block.text, align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif isinstance(block, Paragraph):
            if block.keep_lines:
                self.font(_BODY)
                pdf.multi_cell(
                    self.width, 4.6, _plain(block.content).strip(), align="L", new_x="LMARGIN"
                )
                pdf.ln(4.6)
            else:
                self.inline(block.content)
            pdf.ln(1.5)
        elif isinstance(block, Notice):
            self.notice(block)
        elif isinstance(block, Figure):
            self.figure(block)
        elif isinstance(block, Bullets):
            for item in block.items:
                self.font(_BODY)
                pdf.set_x(pdf.l_margin + 2)
                pdf.write(4.6, "•  ")
                self.inline(item)
            pdf.ln(1.5)
        else:
            self.table(block)

    def figure(self, block: Figure) -> None:
        pdf = self.pdf
        view_w, view_h = svg_size(block.svg)
        width = min(_FIGURE_WIDTH, self.width)
        height = view_h * width / view_w
        if pdf.get_y() + height + 16 > pdf.page_break_trigger:
            pdf.add_page()
        top = pdf.get_y()
        draw_svg(pdf, block.svg, x=pdf.l_margin, y=top, width=width, font=FONT)
        pdf.set_xy(pdf.l_margin, top + height + 1)
        self.font(_BODY - 1)
        pdf.multi_cell(self.width, 4, block.caption, align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(3)

    def notice(self, block: Notice) -> None:
        pdf = self.pdf
        pdf.set_fill_color(*_NOTICE_FILL)
        pdf.set_draw_color(*_NOTICE_LINE)
        pdf.set_line_width(0.6)
        first, *rest = block.lines
        self.font(_BODY + 1, bold=True)
        pdf.multi_cell(
            self.width, 6, first, border="LTR", fill=True, align="L", new_x="LMARGIN",
            new_y="NEXT", padding=(2, 3, 0, 3),
        )  # fmt: skip
        self.font(_BODY)
        pdf.multi_cell(
            self.width, 5, "\n".join(rest), border="LBR", fill=True, align="L",
            new_x="LMARGIN", new_y="NEXT", padding=(0, 3, 2, 3),
        )  # fmt: skip
        pdf.set_line_width(0.2)
        pdf.set_draw_color(0, 0, 0)
        pdf.set_fill_color(255, 255, 255)
        pdf.ln(3)

    def table(self, block: Table) -> None:
        from fpdf.fonts import FontFace

        pdf = self.pdf
        self.font(_TABLE)
        header = FontFace(emphasis="BOLD", fill_color=_HEADER_FILL)
        with pdf.table(
            col_widths=block.widths or None,
            text_align="LEFT",
            line_height=3.8,
            first_row_as_headings=block.has_header,
            headings_style=header,
            padding=1,
            width=self.width,
        ) as grid:
            if block.has_header:
                heading = grid.row()
                for column in block.columns:
                    heading.cell(column)
            for values in block.rows:
                row = grid.row()
                for index, cell in enumerate(values):
                    missed = any(span.style == "missed" for span in cell)
                    key = not block.has_header and index == 0
                    style = (
                        FontFace(emphasis="BOLD", color=_NOTICE_LINE)
                        if missed
                        else FontFace(emphasis="BOLD")
                        if key
                        else None
                    )
                    row.cell(_plain(cell), style=style)
        pdf.ln(3)


def document_pdf(document: Document, *, subject: str = "") -> bytes:
    try:
        from fpdf import FPDF
    except ImportError:
        raise ConfigError(
            "PDF reports need the optional extra: pip install 'drillbook[pdf]' "
            "(or use --format md / html)"
        ) from None
    pdf: Any = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.set_margins(15, 15, 15)
    pdf.add_font(FONT, "", str(font_path()))
    pdf.add_font(FONT, "B", str(font_path(bold=True)))
    pdf.set_title(document.title)
    if subject:
        pdf.set_subject(subject)
    pdf.set_creator("drillbook")
    pdf.add_page()
    writer = _Writer(pdf)
    for block in document.blocks:
        writer.block(block)
    return bytes(pdf.output())
