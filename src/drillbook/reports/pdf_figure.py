"""A chart on paper: the report's SVG drawn as fpdf2 vector shapes.

fpdf2 can place an SVG itself, but it sets the SVG's text in the PDF core fonts, which
have no ``≤`` and no letters outside Latin-1 (a team called ``Żółć``), and stops with a
``KeyError``. The charts use six elements (:data:`drillbook.reports.figures._ELEMENTS`),
so drawing them here is short: lines, polylines and rectangles as vector paths, text in
the report's DejaVu Sans. The SVG was checked by ``safe_svg`` when its figure was made;
anything else in it is skipped rather than guessed.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

_SVG = "{http://www.w3.org/2000/svg}"
_PT_PER_MM = 72 / 25.4


def _colour(value: str | None) -> tuple[int, int, int] | None:
    """``#rrggbb`` or ``#rgb`` as RGB; ``none`` or anything else as no colour."""
    digits = (value or "").removeprefix("#")
    if not (value or "").startswith("#") or len(digits) not in (3, 6):
        return None
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    try:
        return (int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16))
    except ValueError:
        return None


def _float(element: ElementTree.Element, name: str, default: float = 0.0) -> float:
    try:
        return float(element.get(name, default))
    except ValueError:
        return default


def svg_size(svg: str) -> tuple[float, float]:
    root = ElementTree.fromstring(svg)
    return _float(root, "width", 640), _float(root, "height", 320)


def draw_svg(pdf: Any, svg: str, *, x: float, y: float, width: float, font: str) -> float:
    """Draw ``svg`` with its top left at (``x``, ``y``) mm, ``width`` mm wide; returns the
    height drawn in mm."""
    root = ElementTree.fromstring(svg)
    view_w, view_h = _float(root, "width", 640), _float(root, "height", 320)
    scale = width / view_w
    base_size = _float(root, "font-size", 11)

    def at(px: float, py: float) -> tuple[float, float]:
        return x + px * scale, y + py * scale

    pdf.set_line_width(0.2)
    for element in root.iter():
        tag = element.tag.removeprefix(_SVG)
        stroke = _colour(element.get("stroke"))
        fill = _colour(element.get("fill"))
        if tag == "line" and stroke:
            pdf.set_draw_color(*stroke)
            pdf.line(
                *at(_float(element, "x1"), _float(element, "y1")),
                *at(_float(element, "x2"), _float(element, "y2")),
            )
        elif tag == "polyline" and stroke:
            points = []
            for pair in element.get("points", "").split():
                px, _, py = pair.partition(",")
                try:
                    points.append(at(float(px), float(py)))
                except ValueError:
                    continue
            if len(points) > 1:
                pdf.set_draw_color(*stroke)
                pdf.set_line_width(_float(element, "stroke-width", 1) * scale)
                pdf.polyline(points)
                pdf.set_line_width(0.2)
        elif tag == "rect" and (fill or stroke):
            left, top = at(_float(element, "x"), _float(element, "y"))
            w, h = _float(element, "width") * scale, _float(element, "height") * scale
            if w <= 0 or h <= 0:
                continue
            if fill:
                pdf.set_fill_color(*fill)
            if stroke:
                pdf.set_draw_color(*stroke)
            pdf.rect(left, top, w, h, style="DF" if fill and stroke else "F" if fill else "D")
        elif tag == "text" and element.text:
            size = _float(element, "font-size", base_size) * scale * _PT_PER_MM
            pdf.set_font(font, "", size)
            pdf.set_text_color(*(fill or (0, 0, 0)))
            left, baseline = at(_float(element, "x"), _float(element, "y"))
            anchor = element.get("text-anchor", "start")
            if anchor != "start":
                span = pdf.get_string_width(element.text)
                left -= span / 2 if anchor == "middle" else span
            pdf.text(left, baseline, element.text)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_text_color(0, 0, 0)
    return view_h * scale
