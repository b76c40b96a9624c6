"""The dated report: sections, counsel label, escaping, PDF through the optional extra."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from drillbook.clock import FakeClock
from drillbook.domain.exercise import service
from drillbook.domain.exercise.enums import EventKind
from drillbook.domain.finding.service import create_finding
from drillbook.domain.program.models import Program
from drillbook.flows.exercise_report import build_report, mark_reported
from drillbook.library.loader import load_scenario_file
from drillbook.reports.data import ReportData
from drillbook.reports.render import render_html, render_markdown, render_pdf
from drillbook.storage.engine import Store
from tests.helpers import ROOT, SEED


def _report(store: Store, fake_clock: FakeClock, **kwargs: object) -> ReportData:
    scenario = load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    program = Program.model_validate({"organisation": "Acme", "cadence": {"tabletop_every": "26w"}})
    with store.session() as session:
        exercise = service.create_exercise(
            session, scenario=scenario, assignments={"incident_lead": "alice"}
        )
        service.start(session, exercise)
        fake_clock.advance(timedelta(minutes=12, seconds=5))
        service.record(
            session,
            exercise,
            EventKind.DECISION,
            "Take <b>payments-mcp</b> offline | notify IC",
            author="alice",
            meets=["C2"],
        )
        service.set_phase(session, exercise)
        fake_clock.advance(timedelta(minutes=20))
        service.end(session, exercise)
        create_finding(
            session,
            description="No shutdown runbook",
            severity="critical",
            source="exercise",
            exercise_id=exercise.id,
            owner="platform-team",
        )
        return build_report(session, exercise, program, **kwargs)  # type: ignore[arg-type]


def test_markdown_report(store: Store, fake_clock: FakeClock) -> None:
    report = _report(store, fake_clock)
    text = render_markdown(report)
    assert "Prepared at the direction of counsel" not in text
    assert "| alice | incident_commander |" in text
    # markup people wrote is shown, never rendered, by Markdown viewers that allow HTML
    assert (
        "- **T+12:05** decision by alice (incident_commander): "
        "Take &lt;b&gt;payments-mcp&lt;/b&gt;" in text
    )
    assert "<b>" not in text
    assert "offline \\| notify IC" in text  # table cells escape the pipe
    # met by the decision tagged with it, and the report says which event and when
    assert (
        "| C2 | Containment decision (offline vs. quarantine) at t+30 or earlier | T+30:00 |"
        " met | decision by alice: Take &lt;b&gt;payments-mcp&lt;/b&gt; offline"
        " \\| notify IC (tagged) |"
        " T+12:05 |" in text
    )
    # the scope criterion has no evidence and its deadline passed at the end: missed
    assert "| C3 | Data scope quantified by t+60 | T+1:00:00 | **MISSED** |" in text
    assert "| F-001 | critical | No shutdown runbook |  | platform-team | not set |" in text
    # next tabletop: the program's cadence (26 weeks) after the run date
    assert f"Next tabletop: **{(report.run_date + timedelta(weeks=26)).isoformat()}**" in text
    assert report.on_time is True


def test_report_rendered_again_later_keeps_its_deadline_verdict(
    store: Store, fake_clock: FakeClock
) -> None:
    scenario = load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    with store.session() as session:
        exercise = service.create_exercise(
            session, scenario=scenario, assignments={"incident_lead": "alice"}, author="fran"
        )
        service.start(session, exercise)
        fake_clock.advance(timedelta(minutes=30))
        service.end(session, exercise)
        fake_clock.advance(timedelta(hours=2))
        first = build_report(session, exercise, None)
        mark_reported(session, exercise)
        fake_clock.advance(timedelta(days=40))  # an auditor asks for a copy
        again = build_report(session, exercise, None)
    assert first.on_time is True
    assert first.first_reported_at is None
    assert again.on_time is True
    text = render_markdown(again)
    assert "first written 2026-04-29 17:00 UTC, within the deadline" in text
    # the assigner is not shown as holding the seat they assigned
    assert "| role_assigned |  | fran | alice is incident_commander |" in text


def test_counsel_label_and_html_escaping(store: Store, fake_clock: FakeClock) -> None:
    report = _report(store, fake_clock, counsel=True, distribution=["counsel", "ciso"])
    html = render_html(report)
    assert "Prepared at the direction of counsel for incident-response improvement." in html
    assert "Limited distribution: counsel, ciso" in html
    assert "Take &lt;b&gt;payments-mcp&lt;/b&gt;" in html
    assert "<b>payments" not in html
    assert "Prepared at the direction of counsel" in render_markdown(report)


def test_pdf_report(store: Store, fake_clock: FakeClock) -> None:
    pytest.importorskip("fpdf", reason="the pdf extra (fpdf2) is not installed")
    pdf = render_pdf(_report(store, fake_clock, counsel=True))
    assert pdf.startswith(b"%PDF-")
    assert len(pdf) > 1500


NAMES = ("Łukasz Żółć", "Σωκράτης Παππάς", "Иван Петров", "Ærøskøbing Ødegård")


def test_pdf_prints_every_name_and_no_markdown(store: Store, fake_clock: FakeClock) -> None:
    """The PDF is drawn from the document model in a shipped Unicode font: names outside
    Latin-1 survive, and no Markdown syntax (pipes, **, >, backticks) reaches the page."""
    pytest.importorskip("fpdf", reason="the pdf extra (fpdf2) is not installed")
    pypdf = pytest.importorskip("pypdf", reason="pypdf (dev extra) is not installed")
    scenario = load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    with store.session() as session:
        exercise = service.create_exercise(
            session,
            scenario=scenario,
            assignments={"incident_lead": NAMES[0], "comms_lead": NAMES[1], "legal": NAMES[2]},
        )
        service.start(session, exercise)
        fake_clock.advance(timedelta(minutes=4))
        service.record(
            session,
            exercise,
            EventKind.DECISION,
            f"{NAMES[3]} quarantines the MCP server",
            author=NAMES[0],
            meets=["C2"],
        )
        fake_clock.advance(timedelta(minutes=40))
        service.end(session, exercise)
        report = build_report(session, exercise, None, counsel=True, distribution=["counsel"])
    pdf = render_pdf(report)
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    extracted = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(extracted.split())
    for name in NAMES:
        assert name in flat, name
    assert "Prepared at the direction of counsel" in flat
    assert "Appendix: full timeline" in flat
    assert "Success criterion" in flat
    assert "quarantines the MCP server (tagged)" in flat
    for syntax in ("**", "|", "`", "> ", "##", "---"):
        assert syntax not in extracted, syntax
    assert "?ukasz" not in flat
    _keep_first_page_as_png(pdf, store.engine.dialect.name)


def _keep_first_page_as_png(pdf: bytes, variant: str) -> None:
    """Render page 1 for a person to look at (CI keeps it as an artefact); skipped
    without poppler's pdftoppm. One file per database: both variants run at once on
    parallel workers and must not write the same file."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        return
    folder = Path(os.environ.get("DRILLBOOK_TEST_ARTIFACTS", ROOT / "build" / "test-artifacts"))
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / f"report-{variant}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [tool, "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(source),
         str(folder / f"report-{variant}-page-1")],
        check=True, timeout=60,
    )  # fmt: skip
    assert (folder / f"report-{variant}-page-1.png").stat().st_size > 10_000
