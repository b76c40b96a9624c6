"""Long lists of string tests on one field run as one function call, with the same
answers as SQLite's LIKE (which the stock conversion uses)."""

from __future__ import annotations

import json
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drillbook.detection.eventstore import EventStore, Scope
from drillbook.detection.sigma_sqlite import MATCH_ANY, compile_text, match_any

LETTERS = st.text(alphabet="abcXYZ/.- %_'é", min_size=1, max_size=5)


def rule(modifier: str, values: list[str]) -> str:
    listed = "\n".join(f"      - '{v.replace(chr(39), chr(39) * 2)}'" for v in values)
    return (
        "title: t\nlogsource: {category: process_creation}\ndetection:\n  sel:\n"
        f"    CommandLine{modifier}:\n{listed}\n  condition: sel\n"
    )


def test_a_long_contains_list_becomes_one_call_and_matches() -> None:
    values = [f"tool{n}.exe" for n in range(20)]
    compiled = compile_text(rule("|contains", values), "r.yml")
    assert compiled.condition is not None
    assert MATCH_ANY in compiled.condition
    store = EventStore()
    store.ingest([{"CommandLine": "run TOOL7.EXE now"}, {"CommandLine": "nothing"}, {}])
    (match,) = store.match([compiled], Scope())
    assert match.count == 1


def test_short_lists_keep_like() -> None:
    compiled = compile_text(rule("|contains", ["a.exe", "b.exe"]), "r.yml")
    assert compiled.condition is not None
    assert MATCH_ANY not in compiled.condition


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["", "|contains", "|startswith", "|endswith"]),
    st.lists(LETTERS, min_size=8, max_size=12),
    st.text(alphabet="abcXYZ\\/.- %_'é", max_size=12),
)
def test_the_function_answers_like_like(modifier: str, values: list[str], value: str) -> None:
    fast = compile_text(rule(modifier, values), "r.yml")
    assert fast.condition is not None
    conn = sqlite3.connect(":memory:")
    conn.create_function(MATCH_ANY, 2, match_any, deterministic=True)
    conn.execute('CREATE TABLE t ("CommandLine" TEXT COLLATE NOCASE)')
    conn.execute("INSERT INTO t VALUES (?)", (value,))
    got = conn.execute(f"SELECT COUNT(*) FROM t WHERE {fast.condition}").fetchone()[0]
    lowered = value.lower()
    tests = {
        "": lambda v: lowered == v.lower(),
        "|contains": lambda v: v.lower() in lowered,
        "|startswith": lambda v: lowered.startswith(v.lower()),
        "|endswith": lambda v: lowered.endswith(v.lower()),
    }[modifier]
    assert got == int(any(tests(v) for v in values))


def test_test_lists_of_the_same_length_and_ends_are_told_apart() -> None:
    """Lists are looked up by length and ends first: equal shapes must not be confused."""
    first = json.dumps([["c", "a" * 42], ["c", "xyz"], ["c", "b" * 42]])
    second = first.replace("xyz", "qrs")
    assert match_any("has xyz in it", first) == 1
    assert match_any("has xyz in it", second) == 0
    assert match_any("has qrs in it", second) == 1
    assert match_any("has qrs in it", first) == 0


def test_kept_answers_are_bounded_and_stay_right(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answers are kept per list and value, within a bound over all lists."""
    from drillbook.detection import sigma_sqlite

    monkeypatch.setattr(sigma_sqlite, "_ANSWERS_HELD", 3)
    listed = json.dumps([["c", "evil"], ["s", "c:\\temp"], ["e", ".ps1"], ["=", "x"]])
    values = ["an EVIL one", "c:\\temp\\a", "run.PS1", "X", "fine", "good"] * 3
    got = [match_any(v, listed) for v in values]
    assert got == [1, 1, 1, 1, 0, 0] * 3
    assert sigma_sqlite._answers_kept[0] <= 3
