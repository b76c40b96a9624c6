"""Long lists of string tests on one field run as one function call, with the same
answers as SQLite's LIKE (which the stock conversion uses)."""

from __future__ import annotations

import json
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drillbook.detection.eventstore import EventStore, Scope
from drillbook.detection.match_lists import MATCH_ANY, match_any, register_lists
from drillbook.detection.sigma_sqlite import compile_text

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
    register_lists([fast])
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


def _registered(*lists: list[list[str]]) -> list[str]:
    """Keys of test lists registered as a converted rule would register them."""
    from drillbook.detection.sigma_sqlite import CompiledRule

    pairs = tuple((f"Ltest{n}-{json.dumps(t)}", json.dumps(t)) for n, t in enumerate(lists))
    register_lists(
        [CompiledRule("r", None, "t", None, "t", "1", (), (), lists=pairs)]  # type: ignore[arg-type]
    )
    return [key for key, _ in pairs]


def test_lists_that_differ_in_one_test_are_told_apart() -> None:
    first_list = [["c", "a" * 42], ["c", "xyz"], ["c", "b" * 42]]
    second_list = [["c", "a" * 42], ["c", "qrs"], ["c", "b" * 42]]
    first, second = _registered(first_list, second_list)
    assert match_any("has xyz in it", first) == 1
    assert match_any("has xyz in it", second) == 0
    assert match_any("has qrs in it", second) == 1
    assert match_any("has qrs in it", first) == 0


def test_a_rule_carries_its_lists_and_shows_them_written_out() -> None:
    """The predicate names a list by a short key (SQLite copies arguments on every row);
    the rule carries the list, and the query people see has it written out."""
    values = [f"it's{n}.exe" for n in range(10)]
    compiled = compile_text(rule("|contains", values), "r.yml")
    assert compiled.condition is not None
    assert compiled.lists
    ((key, encoded),) = compiled.lists
    assert f"'{key}'" in compiled.condition
    assert "it''s3.exe" not in compiled.condition
    assert json.loads(encoded) == [["c", v.lower()] for v in values]
    assert compiled.readable_condition is not None
    assert "it''s3.exe" in compiled.readable_condition
    assert key not in compiled.readable_condition
    # and a rule read back from the conversion cache runs the same
    again = type(compiled).from_json(compiled.to_json())
    store = EventStore()
    store.ingest([{"CommandLine": "run IT'S3.EXE now"}, {"CommandLine": "nothing"}])
    (match,) = store.match([again], Scope())
    assert match.count == 1


def test_an_unregistered_list_is_an_error_not_a_miss() -> None:
    with pytest.raises(KeyError):
        match_any("anything", "Lnever-registered")


def test_kept_answers_are_bounded_and_stay_right(monkeypatch: pytest.MonkeyPatch) -> None:
    """Answers are kept per list and value, within a bound over all lists."""
    from drillbook.detection import match_lists

    monkeypatch.setattr(match_lists, "_ANSWERS_HELD", 3)
    (listed,) = _registered([["c", "evil"], ["s", "c:\\temp"], ["e", ".ps1"], ["=", "x"]])
    values = ["an EVIL one", "c:\\temp\\a", "run.PS1", "X", "fine", "good"] * 3
    got = [match_any(v, listed) for v in values]
    assert got == [1, 1, 1, 1, 0, 0] * 3
    assert match_lists._answers_kept[0] <= 3


def test_substrings_beyond_ascii_are_found_only_where_they_can_be() -> None:
    """A value of ASCII characters only skips a list's emoji (it cannot hold one); a
    value with any other character is searched for them, also after lower-casing."""
    emoji = ["😀", "🔥", "💀", "ΣIGMA", "🐍", "🦀", "🎯", "🧨"]
    (listed,) = _registered([["c", e.lower()] for e in [*emoji, "plain"]])
    assert match_any("no such thing", listed) == 0
    assert match_any("a PLAIN one", listed) == 1
    assert match_any("cmd /c echo 🔥", listed) == 1
    assert match_any("σigma is lower-cased to match", listed) == 1
    assert match_any("é but no emoji", listed) == 0
    # the Kelvin sign lower-cases to an ASCII k: still no emoji in it
    assert match_any("\u212aelvin", listed) == 0
