"""The evidence pack: built from a year of records, verified, tamper named, hostile text
kept as text."""

from __future__ import annotations

import json
import zipfile
from datetime import UTC, date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.clock import FakeClock
from drillbook.domain.finding.service import create_finding
from drillbook.flows.evidence import EvidenceMismatch, build_pack, sha256, verify_pack
from drillbook.storage.engine import Store
from tests.program_year import TODAY, at, build_year

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("pwned")</script><img src=x onerror=alert(1)>'


def _pack(store: Store, fake_clock: FakeClock, output: Path, **kwargs: object) -> list[str]:
    lib = build_year(store, fake_clock)
    fake_clock.set(at("2026-12-01"))
    with store.session() as session:
        create_finding(
            session,
            description=HOSTILE,
            severity="low",
            source="incident",
            team="alpha",
            capability="other",
            fix_location="https://tracker.example.invalid/SEC-1",
            extra={"tracker": "https://tracker.example.invalid/SEC-1"},
        )
    fake_clock.set(at(TODAY.isoformat()))
    with store.session() as session:
        result = build_pack(session, lib, since=date(2026, 1, 1), output=output, **kwargs)
    return result.files


def test_a_pack_holds_the_year_and_verifies(
    store: Store, fake_clock: FakeClock, tmp_path: Path
) -> None:
    out = tmp_path / "pack"
    files = _pack(store, fake_clock, out)
    assert "index.html" in files
    assert "manifest.json" in files
    assert "reports/2026-01-15-EX-1.md" in files
    assert "scorecards/2026-03-20-d1.yaml" in files
    assert {"schedule.json", "schedule.ics", "metrics.json", "audit-log.jsonl"} <= set(files)
    assert verify_pack(out) == len(files) - 1
    findings = json.loads((out / "findings" / "findings.json").read_text())
    f008 = next(f for f in findings if f["id"] == "F-008")
    assert [(h["from"], h["to"]) for h in f008["history"]] == [(None, "open"), ("open", "verified")]
    hostile = next(f for f in findings if f["description"] == HOSTILE)
    assert hostile["links"] == ["https://tracker.example.invalid/SEC-1"]
    index = (out / "index.html").read_text()
    assert "<script>" not in index
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in index
    assert "<img src=x" not in index
    assert 'href="https://tracker.example.invalid/SEC-1"' in index
    assert "EX-1" in index
    assert "alpha-observer" in index  # who took part
    for chart in (out / "charts").glob("*.svg"):
        ElementTree.fromstring(chart.read_bytes())  # well-formed: labels were escaped
    audit = [json.loads(line) for line in (out / "audit-log.jsonl").read_text().splitlines()]
    assert [a["at"] for a in audit] == sorted(a["at"] for a in audit)
    assert any(a["record"] == "F-004" and a["to"] == "verified" for a in audit)


def test_changing_one_byte_makes_verify_fail_naming_the_file(
    store: Store, fake_clock: FakeClock, tmp_path: Path
) -> None:
    out = tmp_path / "pack"
    _pack(store, fake_clock, out)
    runner = CliRunner()
    ok = runner.invoke(app, ["evidence", "verify", str(out)])
    assert ok.exit_code == 0, ok.output
    assert "match the manifest" in ok.output
    target = out / "findings" / "findings.json"
    data = bytearray(target.read_bytes())
    data[10] ^= 1
    target.write_bytes(bytes(data))
    bad = runner.invoke(app, ["evidence", "verify", str(out)])
    assert bad.exit_code == 1
    assert "findings/findings.json: changed" in " ".join(bad.output.split())
    assert "Traceback" not in bad.output
    (out / "extra.txt").write_text("slipped in")
    (out / "metrics.json").unlink()
    with pytest.raises(EvidenceMismatch) as caught:
        verify_pack(out)
    message = str(caught.value)
    assert "metrics.json: missing" in message
    assert "extra.txt: not in the manifest" in message


def test_a_zip_pack_for_one_team_verifies_and_tamper_is_named(
    store: Store, fake_clock: FakeClock, tmp_path: Path
) -> None:
    out = tmp_path / "pack.zip"
    files = _pack(store, fake_clock, out, team="beta")
    assert not any(f.startswith("scorecards/") for f in files)  # beta ran no drill
    assert verify_pack(out) == len(files) - 1
    with zipfile.ZipFile(out) as archive:
        members = {i.filename: archive.read(i) for i in archive.infolist()}
    findings = json.loads(members["findings/findings.json"])
    assert {f["team"] for f in findings} == {"beta"}
    members["index.html"] = members["index.html"].replace(b"beta", b"betb", 1)
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(tampered, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    with pytest.raises(EvidenceMismatch, match=r"index\.html: changed"):
        verify_pack(tampered)


def test_building_refuses_to_overwrite(store: Store, fake_clock: FakeClock, tmp_path: Path) -> None:
    out = tmp_path / "pack"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["evidence", "--since", "2026-01-01", "-o", str(out)],
        env={"DRILLBOOK_DATABASE_URL": str(store.url)},
    )
    assert result.exit_code != 0
    assert "not an empty folder" in result.output
    assert (out / "keep.txt").read_text() == "mine"


CHARTS = (
    "charts/open-findings.svg",
    "charts/pass-rate-by-tactic.svg",
    "charts/schedule.svg",
    "charts/time-to-close.svg",
)


def test_the_pack_holds_the_dashboards_four_charts_listed_and_linked(
    store: Store, fake_clock: FakeClock, tmp_path: Path
) -> None:
    out = tmp_path / "pack"
    files = _pack(store, fake_clock, out)
    assert set(CHARTS) <= set(files)
    manifest = {
        f["path"]: f["sha256"] for f in json.loads((out / "manifest.json").read_text())["files"]
    }
    index = (out / "index.html").read_text()
    for chart in CHARTS:
        assert manifest[chart] == sha256((out / chart).read_bytes())
        assert f'<img src="{chart}"' in index
    # every team's drills in 2026: d1 (1 of 2 fired), d3 (3 of 3), d2 (0 of 1): T1059.004
    tactics = (out / "charts/pass-rate-by-tactic.svg").read_text()
    assert ">execution</text>" in tactics
    assert ">66.7%</text>" in tactics
    assert "execution: 66.7% (4 of 6 checks fired)" in index
    # findings closed in 2026 (F-001 10 d, F-002 45 d, F-004 4 d, F-005 10 d, F-006 30 d,
    # F-008 16 d): three within a week or ten days, ...
    closing = (out / "charts/time-to-close.svg").read_text()
    assert "6 findings closed from 2026-01-01 to 2027-01-09" in index
    assert "Time to close (findings closed from 2026-01-01 to 2027-01-09)" in index
    assert ElementTree.fromstring(closing).find(f"{SVG}title") is not None
    # each report's own figures sit beside it, listed too
    assert "reports/2026-03-01-EX-3-figures/pass-rate-by-tactic.svg" in files
    report = (out / "reports/2026-03-01-EX-3.md").read_text()
    assert "](2026-03-01-EX-3-figures/open-findings.svg)" in report


def test_changing_one_byte_of_a_chart_makes_verify_fail_naming_it(
    store: Store, fake_clock: FakeClock, tmp_path: Path
) -> None:
    out = tmp_path / "pack"
    _pack(store, fake_clock, out)
    target = out / "charts" / "pass-rate-by-tactic.svg"
    data = bytearray(target.read_bytes())
    data[data.index(b"66.7%")] = ord("9")
    target.write_bytes(bytes(data))
    bad = CliRunner().invoke(app, ["evidence", "verify", str(out)])
    assert bad.exit_code == 1
    message = " ".join(bad.output.split())
    assert "charts/pass-rate-by-tactic.svg: changed" in message
    assert "index.html" not in message


def test_hostile_team_names_stay_text_in_the_pack(
    store: Store, fake_clock: FakeClock, tmp_path: Path
) -> None:
    from drillbook.domain.exercise import service
    from tests.program_year import WRONG, library
    from tests.unit.test_report_figures import (
        HOSTILE as LABELS,
    )
    from tests.unit.test_report_figures import (
        assert_no_markup_gets_through,
        assert_svg_is_inert,
    )

    team = "".join(LABELS)
    lib = library()
    fake_clock.set(at("2026-06-01"))
    with store.session() as session:
        exercise = service.create_exercise(
            session, scenario=lib.scenarios[WRONG].scenario, team=team, run_date=date(2026, 6, 1)
        )
        create_finding(
            session,
            description=LABELS[0],
            severity="high",
            source="exercise",
            team=team,
            exercise_id=exercise.id,
        )
    fake_clock.set(at(TODAY.isoformat()))
    out = tmp_path / "pack"
    with store.session() as session:
        result = build_pack(session, lib, since=date(2026, 1, 1), output=out, team=team)
    svgs = [name for name in result.files if name.endswith(".svg")]
    assert len(svgs) == 4 + 2  # the pack's four, the report's two (no drill, no pass rate)
    for name in svgs:
        assert_svg_is_inert((out / name).read_text())
    for name in result.files:
        if name.endswith(".html"):
            assert_no_markup_gets_through((out / name).read_text())
    assert "&lt;/svg&gt;&lt;script&gt;" in (out / "index.html").read_text()
    assert verify_pack(out) == len(result.files) - 1


def _old_line(record: Any) -> str:
    """How audit lines were written before: indented by the Python encoder, read back,
    written compact (the bytes the C encoder must now give directly)."""
    from drillbook.flows.evidence import _json

    return json.dumps(json.loads(_json(record)), ensure_ascii=False, separators=(",", ":"))


_texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_leaves = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _texts
    | st.dates()
    | st.datetimes(timezones=st.just(UTC))
    | st.frozensets(_texts, max_size=3)
    | st.tuples(_texts, st.integers())
)
_values = st.recursive(
    _leaves,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3),
    max_leaves=12,
)


@given(record=st.dictionaries(_texts | st.integers(0, 9).map(str), _values, max_size=6))
def test_audit_lines_and_finding_rows_are_the_same_json(record: dict[str, Any]) -> None:
    from drillbook.flows.evidence import _json, _json_rows, _line

    assert _line(record) == _old_line(record)
    rows = [record, {"n": 1}, record]
    assert json.loads(_json_rows(rows)) == json.loads(_json(rows))
    assert _json_rows([]) == "[]\n"
