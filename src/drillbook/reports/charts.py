"""Static SVG charts, rendered on the server without any JavaScript or CDN.

The evidence pack and reports carry pictures where people would rather look than read:
the trend of open findings by severity, the time-to-close distribution, the detection
pass rate over time, and the schedule as a calendar. Every piece of text placed in the
SVG (team names, scenario ids, tactic names: user input) goes through :func:`_clean` (drops
the characters XML forbids, so the file always parses) and :func:`xml.sax.saxutils.escape`,
so hostile text stays text. Output is deterministic for the same data (tests compare it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape, quoteattr

WIDTH = 640
HEIGHT = 320
MARGIN = 48
MAX_X_LABELS = 8  # "2026-01" is about 40 px wide at 11 px; more would overlap
PALETTE = ("#b2182b", "#ef8a62", "#67a9cf", "#2166ac", "#4d9221", "#999999")
SEVERITY_COLOURS = {"critical": "#b2182b", "high": "#ef8a62", "medium": "#67a9cf", "low": "#2166ac"}
KIND_COLOURS = {
    "tabletop": "#2166ac",
    "extra_tabletop": "#762a83",
    "remediation": "#bababa",
    "drill": "#b2182b",
    "followup": "#4d9221",
    "review": "#e08214",
}
STATUS_MARK = {"done": "✓", "overdue": "!", "booked": "•", "planned": ""}
# What XML 1.0 does not allow in a document at all (escaping cannot save it).
_NOT_XML = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(value: object) -> str:
    return _NOT_XML.sub("\ufffd", str(value))


def _text(x: float, y: float, value: object, **attrs: str) -> str:
    extra = "".join(f" {k.replace('_', '-')}={quoteattr(v)}" for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(_clean(value))}</text>'


def _frame(title: str, body: list[str], width: int = WIDTH, height: int = HEIGHT) -> str:
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" '
            f'role="img" aria-label={quoteattr(_clean(title))}>',
            f"<title>{escape(_clean(title))}</title>",
            _text(width / 2, 18, title, text_anchor="middle", font_size="14"),
            *body,
            "</svg>",
            "",
        ]
    )


def _axis(maximum: float) -> float:
    """A round upper bound for the y axis."""
    if maximum <= 0:
        return 1.0
    step = 1.0
    while step * 10 < maximum:
        step *= 10
    for factor in (1, 2, 5, 10):
        if step * factor >= maximum:
            return step * factor
    return step * 10


def line_chart(title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]]) -> str:
    """One line per series over ``labels`` (e.g. open findings by severity per month)."""
    plot_w, plot_h = WIDTH - 2 * MARGIN - 90, HEIGHT - 2 * MARGIN
    top = _axis(max([v for values in series.values() for v in values] or [0]))
    body = [
        f'<line x1="{MARGIN}" y1="{MARGIN + plot_h}" x2="{MARGIN + plot_w}" '
        f'y2="{MARGIN + plot_h}" stroke="#333"/>',
        f'<line x1="{MARGIN}" y1="{MARGIN}" x2="{MARGIN}" y2="{MARGIN + plot_h}" stroke="#333"/>',
        _text(MARGIN - 6, MARGIN + 4, f"{top:g}", text_anchor="end"),
        _text(MARGIN - 6, MARGIN + plot_h, "0", text_anchor="end"),
    ]
    step = plot_w / max(1, len(labels) - 1)
    stride = -(-len(labels) // MAX_X_LABELS)  # every label fits at most MAX_X_LABELS
    for index, label in enumerate(labels):
        if index % stride == 0:
            body.append(
                _text(MARGIN + index * step, MARGIN + plot_h + 16, label, text_anchor="middle")
            )
    for number, (name, values) in enumerate(series.items()):
        colour = SEVERITY_COLOURS.get(name, PALETTE[number % len(PALETTE)])
        points = " ".join(
            f"{MARGIN + i * step:.1f},{MARGIN + plot_h - plot_h * v / top:.1f}"
            for i, v in enumerate(values)
        )
        body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        legend_y = MARGIN + 14 * number
        body.append(
            f'<rect x="{WIDTH - MARGIN - 80}" y="{legend_y - 8}" width="10" height="10" '
            f'fill="{colour}"/>'
        )
        body.append(_text(WIDTH - MARGIN - 66, legend_y + 1, name))
    return _frame(title, body)


def bar_chart(title: str, bars: Sequence[tuple[str, float]], *, unit: str = "") -> str:
    """Vertical bars with their values written on top (a distribution, a rate per period)."""
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN
    top = _axis(max([v for _, v in bars] or [0]))
    width = plot_w / max(1, len(bars))
    body = [
        f'<line x1="{MARGIN}" y1="{MARGIN + plot_h}" x2="{MARGIN + plot_w}" '
        f'y2="{MARGIN + plot_h}" stroke="#333"/>'
    ]
    for index, (label, value) in enumerate(bars):
        height = plot_h * value / top
        x = MARGIN + index * width
        body.append(
            f'<rect x="{x + width * 0.15:.1f}" y="{MARGIN + plot_h - height:.1f}" '
            f'width="{width * 0.7:.1f}" height="{height:.1f}" fill="{PALETTE[2]}"/>'
        )
        body.append(
            _text(
                x + width / 2,
                MARGIN + plot_h - height - 4,
                f"{value:g}{unit}",
                text_anchor="middle",
            )
        )
        body.append(_text(x + width / 2, MARGIN + plot_h + 16, label, text_anchor="middle"))
    if not bars:
        body.append(_text(WIDTH / 2, HEIGHT / 2, "no data in this period", text_anchor="middle"))
    return _frame(title, body)


def calendar(
    title: str, months: Sequence[str], rows: Mapping[str, Sequence[Sequence[tuple[str, str]]]]
) -> str:
    """The schedule as a grid: one row per team, one column per month, one chip per item
    (``rows[team][month]`` is a list of ``(kind, status)``)."""
    label_w, cell_w, cell_h = 110, (WIDTH - 110 - 16) / max(1, len(months)), 30
    height = 60 + cell_h * max(1, len(rows)) + 40
    body = []
    for index, month in enumerate(months):
        body.append(_text(label_w + (index + 0.5) * cell_w, 44, month, text_anchor="middle"))
    for row_index, (team, cells) in enumerate(rows.items()):
        y = 52 + row_index * cell_h
        body.append(_text(label_w - 6, y + cell_h / 2 + 4, team, text_anchor="end"))
        for month_index, chips in enumerate(cells):
            x = label_w + month_index * cell_w
            body.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{cell_w:.1f}" height="{cell_h}" '
                'fill="none" stroke="#ddd"/>'
            )
            for chip, (kind, status) in enumerate(chips[:4]):
                cx = x + 4 + chip * (cell_w - 8) / 4
                colour = KIND_COLOURS.get(kind, PALETTE[-1])
                body.append(
                    f'<rect x="{cx:.1f}" y="{y + 6:.1f}" width="{(cell_w - 8) / 4 - 2:.1f}" '
                    f'height="{cell_h - 12}" fill="{colour}" rx="3"><title>'
                    f"{escape(_clean(kind))}: {escape(_clean(status))}</title></rect>"
                )
                mark = STATUS_MARK.get(status, "")
                if mark:
                    body.append(
                        _text(
                            cx + (cell_w - 8) / 8 - 1,
                            y + cell_h / 2 + 4,
                            mark,
                            text_anchor="middle",
                            fill="#fff",
                        )
                    )
    legend_y = height - 16
    for index, (kind, colour) in enumerate(KIND_COLOURS.items()):
        x = 16 + index * 100
        body.append(f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>')
        body.append(_text(x + 14, legend_y, kind.replace("_", " ")))
    return _frame(title, body, height=int(height))
