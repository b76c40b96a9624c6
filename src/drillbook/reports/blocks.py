"""The blocks a report is made of: headings, paragraphs, a notice, tables, lists of styled
text and figures. :mod:`drillbook.reports.document` lays the tabletop report out in them;
:mod:`drillbook.reports.render` and :mod:`drillbook.reports.pdf` draw them. User text is
always a plain :class:`Span`: no renderer reads markup in it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Style = Literal["plain", "strong", "code", "time", "missed"]


@dataclass(frozen=True)
class Span:
    text: str
    style: Style = "plain"


Inline = tuple[Span, ...]


def text(value: object, style: Style = "plain") -> Inline:
    return (Span(" ".join(str(value or "").split()), style),)


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Paragraph:
    content: Inline
    keep_lines: bool = False  # the scenario's initial state, as written


@dataclass(frozen=True)
class Notice:
    """A boxed notice (the counsel label): first line strong."""

    lines: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    columns: tuple[str, ...]  # empty strings: a key/value table without a header row
    rows: tuple[tuple[Inline, ...], ...]
    widths: tuple[int, ...] = ()  # relative column widths for paged output

    @property
    def has_header(self) -> bool:
        return any(self.columns)


@dataclass(frozen=True)
class Bullets:
    items: tuple[Inline, ...]


@dataclass(frozen=True)
class Figure:
    """A chart with its numbers said twice in text, for readers who cannot see it.

    ``svg`` is drawn by :mod:`drillbook.reports.charts` and checked against an allow-list
    by :func:`drillbook.reports.figures.safe_svg`, so the HTML report can inline it.
    ``caption`` reads the figure's numbers out in words (the alt text, and all a Markdown
    reader on standard output gets besides ``data``); ``data`` is every value as a table.
    ``slug`` names the ``.svg`` file written beside a Markdown report.
    """

    slug: str
    title: str
    svg: str
    caption: str
    data: Table


Block = Heading | Paragraph | Notice | Table | Bullets | Figure


@dataclass
class Document:
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)
