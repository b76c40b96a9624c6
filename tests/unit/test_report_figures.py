"""Figures in the exercise report: the numbers of a constructed year in the HTML's SVG, the
Markdown's linked files and text, and the PDF's vector drawing; hostile labels kept as
text in every one of them."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.clock import FakeClock
from drillbook.domain.exercise.models import Exercise
from drillbook.errors import StateError
from drillbook.flows.exercise_report import build_report
from drillbook.reports.blocks import Document
from drillbook.reports.data import ReportData
from drillbook.reports.figures import (
    Bar,
    Bars,
    Calendar,
    Slot,
    Trend,
    figure,
    safe_svg,
)
from drillbook.reports.render import (
    document_html,
    markdown_with_figures,
    render_html,
    render_markdown,
    render_pdf,
)
from drillbook.storage.engine import Store
from tests.program_year import build_year

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = ("</svg><script>alert(1)</script>", '" onload="x', "' onmouseover='y")


def _report(store: Store, fake_clock: FakeClock, team: str) -> ReportData:
    """The report of ``team``'s first tabletop in the constructed year (2026), written on
    2027-01-10."""
    lib = build_year(store, fake_clock)
    with store.session() as session:
        exercise = session.scalars(
            select(Exercise).where(Exercise.team == team).order_by(Exercise.run_date)
        ).first()
        assert exercise is not None
        return build_report(session, exercise, lib.program)


def _figure_html(page: str, slug: str) -> str:
    found = re.search(rf'<figure id="figure-{slug}">(.*?)</figure>', page, re.S)
    assert found, f"no figure {slug}"
    return found.group(1)


def _texts(svg: str) -> list[str]:
    return [t.text or "" for t in ElementTree.fromstring(svg).iter(f"{SVG}text")]


def _table(fragment: str) -> dict[str, list[str]]:
    """The figure's numbers table (HTML) as first cell -> the other cells."""
    rows = re.findall(r"<tr>(.*?)</tr>", fragment, re.S)
    table = {}
    for row in rows[1:]:
        cells = re.findall(r"<t[dh]>(.*?)</t[dh]>", row, re.S)
        table[cells[0]] = cells[1:]
    return table


def test_html_report_draws_the_teams_year_with_the_right_numbers(
    store: Store, fake_clock: FakeClock
) -> None:
    """gamma (hand-counted from tests/program_year.py): F-007 high opened 2026-03-01 and
    still open, F-008 high opened 2026-03-20 and verified 2026-04-05, F-009 medium opened
    2026-09-20 and open; its drills d1 and d2 checked three T1059.004 (execution) results
    of which one fired. Alpha's and beta's findings must not be counted."""
    page = render_html(_report(store, fake_clock, "gamma"))
    severity = _figure_html(page, "findings-by-severity")
    assert "<svg" in severity
    assert "This exercise recorded 1 finding:" in severity
    assert "high: 1 (1 open, 0 closed)" in severity
    svg = severity[severity.index("<svg") : severity.index("</svg>") + 6]
    assert _texts(svg) == ["Findings from this exercise by severity", "0", "critical", "1",
                               "high", "0", "medium", "0", "low"]  # fmt: skip

    trend = _figure_html(page, "open-findings")
    assert "<polyline" in trend
    numbers = _table(trend)  # date -> critical, high, medium, low, all
    assert numbers["2026-03-01"] == ["0", "0", "0", "0", "0"]  # alpha's F-002 was open
    assert numbers["2026-04-01"] == ["0", "2", "0", "0", "2"]
    assert numbers["2026-05-01"] == ["0", "1", "0", "0", "1"]
    assert numbers["2026-10-01"] == ["0", "1", "1", "0", "2"]
    assert numbers["2027-01-01"] == ["0", "1", "1", "0", "2"]
    assert "On 2027-01-01: 2 open findings (0 critical, 1 high, 1 medium, 0 low)." in trend

    tactics = _figure_html(page, "pass-rate-by-tactic")
    assert ">execution</text>" in tactics
    assert ">33.3%</text>" in tactics
    assert "execution: 33.3% (1 of 3 checks fired)" in tactics
    assert "team gamma, from 2025-03-01 to 2027-01-10" in page


def test_a_team_without_drills_gets_no_pass_rate_figure(
    store: Store, fake_clock: FakeClock
) -> None:
    page = render_html(_report(store, fake_clock, "beta"))
    assert '<figure id="figure-open-findings">' in page
    assert "figure-pass-rate-by-tactic" not in page
    assert "No drill of team beta was checked in that time" in page


def test_markdown_links_figure_files_or_says_them_in_words(
    store: Store, fake_clock: FakeClock
) -> None:
    report = _report(store, fake_clock, "gamma")
    linked, files = markdown_with_figures(report, "EX-3.md")
    assert sorted(files) == [
        "EX-3-figures/findings-by-severity.svg",
        "EX-3-figures/open-findings.svg",
        "EX-3-figures/pass-rate-by-tactic.svg",
    ]
    assert "![Open findings of team gamma by severity](EX-3-figures/open-findings.svg)" in linked
    assert ">33.3%</text>" in files["EX-3-figures/pass-rate-by-tactic.svg"]
    for svg in files.values():
        ElementTree.fromstring(svg)
    plain = render_markdown(report)  # standard output, a download, MCP: no file to link
    assert "![" not in plain
    for text in (linked, plain):
        assert "**Figure: Detection pass rate per ATT&CK tactic, drills of team gamma**" in text
        assert "execution: 33.3% (1 of 3 checks fired)" in text
        assert "| 2026-04-01 | 0 | 2 | 0 | 0 | 2 |" in text


def test_cli_writes_the_svg_files_beside_a_markdown_report(
    store: Store, fake_clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _report(store, fake_clock, "gamma")
    monkeypatch.chdir(tmp_path)
    env = {"DRILLBOOK_DATABASE_URL": str(store.url)}
    runner = CliRunner()
    out = tmp_path / "out" / "gamma report.md"
    result = runner.invoke(app, ["exercise", "report", "3", "-o", str(out)], env=env)
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "](gamma%20report-figures/open-findings.svg)" in text
    folder = tmp_path / "out" / "gamma report-figures"
    assert sorted(p.name for p in folder.iterdir()) == [
        "findings-by-severity.svg",
        "open-findings.svg",
        "pass-rate-by-tactic.svg",
    ]
    stdout = runner.invoke(app, ["exercise", "report", "3"], env=env)
    assert stdout.exit_code == 0, stdout.output
    assert "**Figure: Open findings of team gamma by severity**" in stdout.output
    assert "![" not in stdout.output


def test_pdf_draws_the_figures_as_vectors_with_their_captions(
    store: Store, fake_clock: FakeClock, tmp_path: Path
) -> None:
    pytest.importorskip("fpdf", reason="the pdf extra (fpdf2) is not installed")
    pypdf = pytest.importorskip("pypdf", reason="pypdf (dev extra) is not installed")
    pdf = render_pdf(_report(store, fake_clock, "gamma"))
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    pages = [page.extract_text() for page in reader.pages]
    flat = " ".join(" ".join(pages).split())
    assert "Open findings of team gamma by severity" in flat
    assert "33.3%" in flat
    assert "execution: 33.3% (1 of 3 checks fired)" in flat
    assert "2026-04" in flat  # an axis label, drawn in DejaVu
    for syntax in ("**", "|", "`", "![", "<svg"):
        assert syntax not in flat, syntax
    figure_page = next(i for i, text in enumerate(pages) if "7. The team in the program" in text)
    tool = shutil.which("pdftoppm")
    if tool is None:
        return
    source = tmp_path / "report.pdf"
    source.write_bytes(pdf)
    number = str(figure_page + 1)
    subprocess.run(
        [tool, "-png", "-r", "60", "-f", number, "-l", number, "-singlefile", str(source),
         str(tmp_path / "figures")],
        check=True, timeout=60,
    )  # fmt: skip
    assert (tmp_path / "figures.png").stat().st_size > 10_000


class _Markup(HTMLParser):
    """Every element and attribute an HTML parser (as a browser's) sees."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend(name for name, _ in attrs)


def assert_no_markup_gets_through(html: str) -> None:
    parser = _Markup()
    parser.feed(html)
    assert "script" not in parser.tags
    assert not [a for a in parser.attributes if a.startswith("on")]


def assert_svg_is_inert(svg: str) -> None:
    root = ElementTree.fromstring(svg)
    names = {e.tag.removeprefix(SVG) for e in root.iter()}
    assert names <= {"svg", "title", "text", "line", "polyline", "rect"}, names
    assert not [a for e in root.iter() for a in e.attrib if a.startswith("on")]


def test_hostile_labels_stay_text_in_every_kind_of_figure() -> None:
    bad, quote, single = HOSTILE
    specs = [
        Bars("bars", bad, (Bar(bad, 3), Bar(quote, 1, note=single)), bad, quote, unit=quote),
        Trend(
            "trend",
            quote,
            (date(2026, 1, 1), date(2026, 2, 1)),
            {bad: (1, 2), quote: (0, 1)},
            single,
        ),
        Calendar("calendar", single, (Slot(bad, "2026-01", quote, single),)),
    ]
    blocks = [figure(spec) for spec in specs]
    page = document_html(Document(bad, list(blocks)))
    assert_no_markup_gets_through(page)
    assert page.count("<svg") == 3
    for block in blocks:
        assert_svg_is_inert(block.svg)
        said = "".join(ElementTree.fromstring(block.svg).itertext())
        assert bad in said  # kept, as text
        assert bad in block.caption or bad in str(block.data.rows)
    assert quote in _texts(blocks[1].svg)


def test_safe_svg_refuses_anything_the_charts_do_not_write() -> None:
    good = figure(Bars("ok", "t", (Bar("a", 1),), "l", "v")).svg
    assert safe_svg(good) == good
    for bad in (
        good.replace("<title>", "<script>alert(1)</script><title>"),
        good.replace('role="img"', 'role="img" onload="x()"'),
        good.replace("</svg>", "<foreignObject/></svg>"),
        "<svg",
    ):
        with pytest.raises(StateError):
            safe_svg(bad)


def test_hostile_team_names_stay_text_in_the_report(
    store: Store, fake_clock: FakeClock, tmp_path: Path
) -> None:
    from drillbook.domain.exercise import service
    from drillbook.domain.finding.service import create_finding
    from drillbook.library.loader import load_builtin

    scenario = next(iter(load_builtin().values())).scenario
    team = "".join(HOSTILE)
    with store.session() as session:
        exercise = service.create_exercise(session, scenario=scenario, team=team)
        create_finding(
            session,
            description="gap",
            severity="high",
            source="exercise",
            team=team,
            exercise_id=exercise.id,
        )
        report = build_report(session, exercise, None)
    page = render_html(report)
    assert_no_markup_gets_through(page)
    assert "&lt;/svg&gt;&lt;script&gt;" in page
    _, files = markdown_with_figures(report, "r.md")
    assert len(files) == 2
    for svg in files.values():
        assert_svg_is_inert(svg)


@given(st.text(max_size=60))
def test_markdown_text_never_opens_markup_or_links(text: str) -> None:
    """Whatever people write shows as written in a Markdown report: no raw HTML, no
    link or image (a tracking pixel), no character reference that turns into markup."""
    from drillbook.reports.render import md_text

    shown = md_text(text)
    assert "<" not in shown
    assert ">" not in shown
    # a bracket is escaped when an odd number of backslashes stands before it
    for found in re.finditer(r"(\\*)[\[\]]", shown):
        assert len(found.group(1)) % 2 == 1, shown
    reference = r"&(?!amp;|lt;|gt;)(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);"
    assert re.search(reference, shown) is None


def test_markdown_code_spans_cannot_be_closed_by_a_backtick() -> None:
    from drillbook.reports.render import _md_code

    assert _md_code("a`b") == "``a`b``"
    assert _md_code("`x`") == "`` `x` ``"
    assert _md_code("plain") == "`plain`"
