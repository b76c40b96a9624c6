"""Figures: a chart drawn once as SVG and its numbers said in words and as a table.

Flows fill the plain specs below from the store (:class:`Bars`, :class:`Trend`,
:class:`Calendar`); :func:`figure` turns one into a :class:`~drillbook.reports.blocks.Figure`
block: the SVG from :mod:`drillbook.reports.charts`, a caption that reads the numbers out
(the alt text, and what a Markdown reader on standard output gets), and a table of every
value. The same figure serves the report, the dashboard and the evidence pack, so the
three cannot disagree.

:func:`safe_svg` re-reads every SVG before it is inlined in HTML and refuses any element
or attribute outside the small vocabulary :mod:`charts` writes: labels are user input
(team names, tactic names, severities), and a chart that let one through would run script
in the report's page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from xml.etree import ElementTree

from drillbook.errors import StateError
from drillbook.reports import charts
from drillbook.reports.blocks import Figure, Inline, Table, text

_SVG = "{http://www.w3.org/2000/svg}"
_ELEMENTS = frozenset({"svg", "title", "text", "line", "polyline", "rect"})
_ATTRIBUTES = frozenset(
    {
        "xmlns", "width", "height", "viewBox", "font-family", "font-size", "role",
        "aria-label", "x", "y", "x1", "y1", "x2", "y2", "points", "fill", "stroke",
        "stroke-width", "text-anchor", "rx",
    }
)  # fmt: skip


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    note: str = ""  # said after the value: "1 of 2 checks fired"


@dataclass(frozen=True)
class Bars:
    """One bar per label (a distribution, a rate per tactic, a count per severity)."""

    slug: str
    title: str
    bars: tuple[Bar, ...]
    label_column: str
    value_column: str
    unit: str = ""
    intro: str = ""  # the caption's first sentence
    empty: str = "No data in this period."


@dataclass(frozen=True)
class Trend:
    """Counts per series at each point in time (open findings by severity at month starts)."""

    slug: str
    title: str
    points: tuple[date, ...]
    series: dict[str, tuple[int, ...]]
    subject: str  # "open findings"
    intro: str = ""


@dataclass(frozen=True)
class Slot:
    team: str
    month: str  # YYYY-MM
    kind: str
    status: str


@dataclass(frozen=True)
class Calendar:
    """The schedule: one row per team, one column per month, one chip per item."""

    slug: str
    title: str
    slots: tuple[Slot, ...] = field(default_factory=tuple)


Spec = Bars | Trend | Calendar


def _number(value: float, unit: str = "") -> str:
    return f"{value:g}{unit}"


def _bars(spec: Bars) -> Figure:
    svg = charts.bar_chart(spec.title, [(b.label, b.value) for b in spec.bars], unit=spec.unit)
    said = [
        f"{b.label}: {_number(b.value, spec.unit)}" + (f" ({b.note})" if b.note else "")
        for b in spec.bars
    ]
    words = f"{'; '.join(said)}." if said else spec.empty
    caption = " ".join(part for part in (spec.intro, words) if part)
    rows: tuple[tuple[Inline, ...], ...] = tuple(
        (text(b.label), text(_number(b.value, spec.unit)), text(b.note)) for b in spec.bars
    )
    table = Table((spec.label_column, spec.value_column, "Detail"), rows, (3, 2, 4))
    return Figure(spec.slug, spec.title, safe_svg(svg), caption, table)


def _trend(spec: Trend) -> Figure:
    labels = [p.isoformat() for p in spec.points]
    series = {name: list(values) for name, values in spec.series.items()}
    svg = charts.line_chart(spec.title, [p.strftime("%Y-%m") for p in spec.points], series)
    totals = [sum(values[i] for values in spec.series.values()) for i in range(len(labels))]
    words = [spec.intro] if spec.intro else []
    if labels:
        last = len(labels) - 1
        each = ", ".join(f"{values[last]} {name}" for name, values in spec.series.items())
        if last:
            words.append(f"On {labels[0]}: {totals[0]} {spec.subject}.")
        words.append(f"On {labels[last]}: {totals[last]} {spec.subject} ({each}).")
        peak = max(range(len(totals)), key=lambda i: (totals[i], -i))
        if totals[peak] > max(totals[0], totals[last]):
            words.append(f"The most was {totals[peak]}, on {labels[peak]}.")
    rows = tuple(
        (
            text(label),
            *(text(str(values[i])) for values in spec.series.values()),
            text(str(totals[i])),
        )
        for i, label in enumerate(labels)
    )
    columns = ("Date", *spec.series, "All")
    table = Table(columns, rows, (3, *(2 for _ in spec.series), 2))
    return Figure(spec.slug, spec.title, safe_svg(svg), " ".join(words), table)


def _calendar(spec: Calendar) -> Figure:
    months = sorted({s.month for s in spec.slots})
    rows: dict[str, list[list[tuple[str, str]]]] = {}
    for slot in sorted(spec.slots, key=lambda s: (s.team, s.month, s.kind)):
        cells = rows.setdefault(slot.team, [[] for _ in months])
        cells[months.index(slot.month)].append((slot.kind, slot.status))
    svg = charts.calendar(spec.title, months, rows)
    if spec.slots:
        statuses: dict[str, int] = {}
        for slot in spec.slots:
            statuses[slot.status] = statuses.get(slot.status, 0) + 1
        counted = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
        teams = len(rows)
        caption = (
            f"{len(spec.slots)} scheduled item{'s' if len(spec.slots) != 1 else ''} for "
            f"{teams} team{'s' if teams != 1 else ''} from {months[0]} to {months[-1]}: "
            f"{counted}."
        )
    else:
        caption = "Nothing is scheduled in this period."
    table = Table(
        ("Team", "Month", "What", "Status"),
        tuple(
            (text(s.team), text(s.month), text(s.kind.replace("_", " ")), text(s.status))
            for s in sorted(spec.slots, key=lambda s: (s.month, s.team, s.kind))
        ),
        (3, 2, 3, 2),
    )
    return Figure(spec.slug, spec.title, safe_svg(svg), caption, table)


def figure(spec: Spec) -> Figure:
    """The figure block for one spec: SVG, caption and table of the same numbers."""
    if isinstance(spec, Bars):
        return _bars(spec)
    if isinstance(spec, Trend):
        return _trend(spec)
    return _calendar(spec)


def figures(specs: Sequence[Spec]) -> list[Figure]:
    return [figure(spec) for spec in specs]


def safe_svg(svg: str) -> str:
    """``svg`` unchanged if it parses and uses only the elements and attributes the charts
    write; otherwise :class:`StateError` (a bug in chart code, never user input)."""
    try:
        root = ElementTree.fromstring(svg)
    except ElementTree.ParseError as exc:
        raise StateError(f"a chart's SVG does not parse ({exc})") from None
    for element in root.iter():
        name = element.tag.removeprefix(_SVG)
        if name not in _ELEMENTS:
            raise StateError(f"a chart's SVG has a <{name}> element")
        for attribute in element.attrib:
            if attribute not in _ATTRIBUTES:
                raise StateError(f"a chart's SVG has a {attribute!r} attribute on <{name}>")
    return svg
