"""The in-process prefilter: a rule is tested only on rows that hold one substring of
each of its clauses. It may only ever save time: every answer must be the one a full
scan gives, whatever the text (case folding beyond ASCII included)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drillbook.detection import eventstore, prefilter
from drillbook.detection.eventstore import EventStore, Scope
from drillbook.detection.prefilter import candidate_rows, rows_by_value
from drillbook.detection.sigma_sqlite import (
    CompiledRule,
    ConversionCache,
    compile_rules,
    compile_text,
    rule_files,
)
from tests.helpers import shared_data


def sigma(detection: str, title: str = "t") -> str:
    return f"title: {title}\nlogsource: {{category: process_creation}}\ndetection:\n{detection}"


def compiled(detection: str, title: str = "t") -> CompiledRule:
    rule = compile_text(sigma(detection, title), f"{title}.yml")
    assert rule.usable, rule.error
    return rule


def test_clauses_follow_and_or_and_not() -> None:
    rule = compiled(
        "  a: {Image|endswith: '\\cmd.exe'}\n"
        "  b: {CommandLine|contains: ['/c start', '/k start']}\n"
        "  f: {User: 'SYSTEM'}\n"
        "  condition: a and b and not f\n"
    )
    # both selections are needed; the filter (a NOT) gives nothing
    assert rule.clauses == (("\\cmd.exe",), ("/c start", "/k start"))
    # the trigram index looks up the most selective clause: as long, and fewer
    assert rule.anchors == ("\\cmd.exe",)
    either = compiled(
        "  a: {Image|endswith: '\\cmd.exe'}\n"
        "  b: {CommandLine|contains|all: ['whoami', '/priv']}\n"
        "  condition: a or b\n"
    )
    # an OR needs one clause from each side: for the AND side, the one whose shortest
    # substring is longest (the likelier to be rare)
    assert either.clauses == (("\\cmd.exe", "whoami"),)
    # a case-sensitive regex promises its longest run of plain characters at its top
    # level (not under an alternation, a repeat or a group); ignoring case, nothing
    pattern = compiled(
        "  a: {CommandLine|re: '\\$PSHome\\[\\s*\\d+(ab|cdef)?x{2}'}\n  condition: a\n"
    )
    assert pattern.clauses == (("$PSHome[",),)
    for loose in ["'(?i)whoami'", "'whoami|id'", "'w.o.m.i'"]:
        rule = compiled(f"  a: {{CommandLine|re: {loose}}}\n  condition: a\n")
        assert rule.clauses is None, loose
    assert compiled("  a: {CommandLine|re|i: 'whoami'}\n  condition: a\n").clauses is None


def _store(events: list[dict[str, object]], *, prefilter: bool) -> EventStore:
    store = EventStore()
    store.text_prefilter = prefilter
    store.ingest(events, table="process_creation")
    return store


def _answers(store: EventStore, rules: list[CompiledRule]) -> list[tuple[object, ...]]:
    return [
        (m.rule.title, m.count, m.first_time, m.last_time, m.sample_rowids)
        for m in store.match(rules, Scope(include_runner=True))
    ]


RULES = [
    (
        "  a: {Image|endswith: '\\cmd.exe'}\n  b: {CommandLine|contains: ' /c '}\n"
        "  condition: a and b\n"
    ),
    "  a: {CommandLine|contains|all: ['STRASSE', 'ıi']}\n  condition: a\n",
    "  a: {CommandLine|contains: ['ſtart', 'Kelvin', 'Σigma']}\n  condition: a\n",
    "  a: {CommandLine|startswith: 'powershell'}\n  f: {User: 'svc'}\n  condition: a and not f\n",
    "  a: {Image|endswith: ['\\a.exe', '\\b.exe', '\\c.exe', '\\d.exe', '\\e.exe', '\\f.exe',"
    " '\\g.exe', '\\h.exe', '\\cmd.exe']}\n  condition: a\n",
    "  a: {CommandLine|re: '(?i)who.mi'}\n  condition: a\n",
    "  a: {CommandLine|re: 'who[a-z]mi'}\n  condition: a\n",
    "  a: {CommandLine|re: 'STRA(?:SS|ß)E'}\n  condition: a\n",
    "  a: {Image|re: 'ſtart'}\n  b: {CommandLine|re: 'Kelvin.*ıi'}\n  condition: a or b\n",
    "  keywords: ['mimikatz', 'sekurlsa']\n  condition: keywords\n",
    "  a: {CommandLine|contains: '%_''\"'}\n  condition: a\n",
    "  a: {User|startswith: 'US'}\n  b: {Image|contains: 'exe'}\n  condition: a or b\n",
    "  a: {CommandLine|endswith: 'igma'}\n  condition: a\n",
]
PIECES = [
    "\\cmd.exe", "\\CMD.EXE", " /c ", " /C ", "STRASSE", "straße", "ıi", "İI", "ſtart",
    "START", "Kelvin", "\u212aelvin", "Σigma", "σIGMA", "ςigma", "powershell", "POWERSHELL",
    "whoami", "WhoAmI", "mimikatz", "SEKURLSA", "%_'\"", "%x_'\"", "\\a.exe", "\\H.EXE",
    "svc", "user", "",
]  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(*(st.sampled_from(PIECES) for _ in range(5))), min_size=64, max_size=90))
def test_the_prefilter_never_changes_an_answer(rows: list[tuple[str, ...]]) -> None:
    rules = [compiled(text, f"r{n}") for n, text in enumerate(RULES)]
    events = [
        {
            "UtcTime": f"2026-04-29T14:{n // 60:02d}:{n % 60:02d}Z",
            "Image": a + b,
            "CommandLine": b + c + d,
            "User": e,
        }
        for n, (a, b, c, d, e) in enumerate(rows)
    ]
    full = _answers(_store(events, prefilter=False), rules)
    calls: list[int] = []
    real = eventstore.candidate_rows

    def counted(rows: object, anchored: object) -> object:
        calls.append(1)
        return real(rows, anchored)  # type: ignore[arg-type]

    eventstore.candidate_rows = counted  # type: ignore[assignment]
    try:
        assert _answers(_store(events, prefilter=True), rules) == full
    finally:
        eventstore.candidate_rows = real
    assert calls == [1]  # the prefilter did run


def test_only_the_rows_holding_a_clause_are_candidates() -> None:
    rule = compiled(
        "  a: {Image|endswith: '\\cmd.exe'}\n  b: {CommandLine|contains: 'start'}\n"
        "  condition: a and b\n"
    )
    rows = [
        (1, "C:\\Windows\\CMD.EXE", "cmd /c START x"),  # both clauses
        (2, "C:\\Windows\\cmd.exe", "dir"),  # one clause only
        (3, "C:\\x\\start.exe", "x\\cmd.exe"),  # the substrings, in the wrong fields
        (4, None, None),
    ]
    # rows 1 and 3 hold a substring of each clause (in some field): candidates, then
    # the predicate decides; row 2 lacks one clause and is never tested
    assert candidate_rows(rows_by_value(rows), [(0, rule)]) == {0: [1, 3]}


def test_a_warm_rule_set_brings_the_filing_of_its_substrings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trigram each substring is filed under is worked out when a rule set is
    bundled and read back with it, not again on every run; the answers stay the same."""
    folder = tmp_path / "rules"
    folder.mkdir()
    for n, text in enumerate(RULES):
        (folder / f"r{n}.yml").write_text(sigma(text, f"r{n}"))
    cache_file = tmp_path / "cache.db"
    compile_rules(rule_files(folder), ConversionCache(cache_file))
    monkeypatch.setattr(prefilter, "_FILED", {})
    rules, _ = compile_rules(rule_files(folder), ConversionCache(cache_file))
    assert set(prefilter._FILED) == {
        lit.casefold() for r in rules for clause in r.clauses or () for lit in clause
    }
    events = [
        {"Image": piece + "\\cmd.exe", "CommandLine": f" /c {piece} {n}", "User": "svc"}
        for n, piece in enumerate(PIECES * 3)
    ]
    full = _answers(_store(events, prefilter=False), rules)

    def no_filing(literals: object) -> dict[str, str]:
        assert not list(literals)  # type: ignore[call-overload]
        return {}

    monkeypatch.setattr(prefilter, "file_literals", no_filing)
    assert _answers(_store(events, prefilter=True), rules) == full
    assert sum(1 for row in full if row[1]) >= 3


@pytest.mark.slow
def test_sigmahq_linux_rules_answer_the_same_with_and_without_the_prefilter() -> None:
    rules, _ = compile_rules(rule_files(shared_data() / "sigma" / "rules" / "linux"))
    literals = sorted({lit for r in rules for clause in r.clauses or () for lit in clause})
    rng = random.Random(12)
    events = [
        {
            "UtcTime": f"2026-04-29T14:30:{n % 60:02d}Z",
            "Image": "/usr/bin/" + rng.choice(literals).strip("/").upper(),
            "CommandLine": " ".join(rng.sample(literals, 3)),
            "ParentImage": rng.choice(literals),
            "ParentCommandLine": rng.choice(literals)[::-1],
        }
        for n in range(600)
    ]
    full = _answers(_store(events, prefilter=False), rules)
    assert sum(1 for row in full if row[1]) >= 10  # the test has teeth
    assert _answers(_store(events, prefilter=True), rules) == full


def test_small_tables_are_scanned_without_the_prefilter(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    real = eventstore.candidate_rows

    def counted(rows: object, rules: object) -> object:
        calls.append(1)
        return real(rows, rules)  # type: ignore[arg-type]

    monkeypatch.setattr(eventstore, "candidate_rows", counted)
    rules = [compiled(text, f"r{n}") for n, text in enumerate(RULES)]
    few = [{"Image": "\\cmd.exe", "CommandLine": " /c x"}] * 3
    _answers(_store(few, prefilter=True), rules)
    assert calls == []
    many = [{"Image": "\\cmd.exe", "CommandLine": f" /c {n}"} for n in range(100)]
    _answers(_store(many, prefilter=True), rules)
    assert calls == [1]
