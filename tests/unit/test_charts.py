"""Server-side SVG charts: well-formed, deterministic, hostile labels kept as text."""

from __future__ import annotations

from xml.etree import ElementTree

from drillbook.reports import charts

HOSTILE = '<script>alert(1)</script>&"'
SVG = "{http://www.w3.org/2000/svg}"


def _texts(svg: str) -> list[str]:
    root = ElementTree.fromstring(svg)
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_hostile_labels_stay_text_in_every_chart() -> None:
    made = [
        charts.line_chart(HOSTILE, ["2026-01", HOSTILE], {"high": [1, 3], HOSTILE: [2, 0]}),
        charts.bar_chart(HOSTILE, [(HOSTILE, 4.0), ("b", 0.0)], unit="%"),
        charts.calendar(HOSTILE, ["2026-01"], {HOSTILE: [[("tabletop", "done")]]}),
    ]
    for svg in made:
        assert "<script>" not in svg
        assert HOSTILE in _texts(svg)


def test_values_are_placed_on_a_rounded_axis() -> None:
    svg = charts.bar_chart("Pass rate", [("2026-Q1", 50.0), ("2026-Q2", 100.0)], unit="%")
    assert svg == charts.bar_chart("Pass rate", [("2026-Q1", 50.0), ("2026-Q2", 100.0)], unit="%")
    texts = _texts(svg)
    assert "50%" in texts
    assert "100%" in texts
    bars = [r for r in ElementTree.fromstring(svg).iter(f"{SVG}rect")]
    heights = [float(r.get("height", 0)) for r in bars]
    assert heights[1] == 2 * heights[0]  # 100 is twice 50 on a 0..100 axis
    empty = charts.bar_chart("Nothing", [])
    assert "no data in this period" in _texts(empty)
