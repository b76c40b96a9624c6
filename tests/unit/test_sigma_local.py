"""The local Sigma engine: pySigma -> SQLite over recorded events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from drillbook.detection import sigma_sqlite
from drillbook.detection.base import RuleRef, Verdict, Window
from drillbook.detection.eventstore import EventStore, Scope
from drillbook.detection.local import LocalSigmaBackend, read_events
from drillbook.detection.sigma_sqlite import ConversionCache, compile_rules, rule_files
from drillbook.errors import AdapterError, LibraryError
from tests.helpers import FILES, shared_data

DETECTION = FILES / "detection"
RULES = DETECTION / "rules"
T0 = datetime(2026, 4, 29, 14, 30, tzinfo=UTC)


def linux_rules() -> Path:
    return shared_data() / "sigma" / "rules" / "linux" / "process_creation"


def event(image: str, command: str, *, at: float = 1.0, **extra: object) -> dict[str, object]:
    return {
        "UtcTime": (T0 + timedelta(seconds=at)).isoformat(),
        "Image": image,
        "CommandLine": command,
        "ParentImage": "/usr/bin/sh",
        "User": "drill",
        **extra,
    }


def window(seconds: float = 60) -> Window:
    return Window(T0, T0 + timedelta(seconds=seconds))


def engine_with(*events: dict[str, object]) -> LocalSigmaBackend:
    engine = LocalSigmaBackend()
    engine.ingest(list(events))
    return engine


def test_system_information_discovery_fires_on_recorded_uname_events() -> None:
    rule = linux_rules() / "proc_creation_lnx_system_info_discovery.yml"
    engine = LocalSigmaBackend()
    engine.ingest_sourced(read_events(DETECTION / "t1082-uname.jsonl"))
    result = engine.check_once(RuleRef(sigma_path=rule), window())
    assert result.verdict is Verdict.FIRED
    assert result.rule.title == "System Information Discovery"
    assert result.fired_severity == "informational"  # the rule's level
    assert result.matching_events == 3  # uname, uptime, hostname
    assert result.first_alert_at == datetime(2026, 4, 29, 14, 30, 1, 131000, tzinfo=UTC)
    assert result.alerts[0].event is not None
    assert result.alerts[0].event["CommandLine"] == "uname -a"


def test_the_runners_own_wrapper_is_not_attributed_to_the_technique() -> None:
    rule = linux_rules() / "proc_creation_lnx_susp_shell_script_exec_from_susp_location.yml"
    engine = LocalSigmaBackend()
    engine.ingest_sourced(read_events(DETECTION / "t1082-uname.jsonl"))
    excluded = engine.check_once(RuleRef(sigma_path=rule), window())
    assert excluded.verdict is Verdict.NOT_FIRED
    included = engine.check_once(
        RuleRef(sigma_path=rule), Window(T0, T0 + timedelta(minutes=1), include_runner=True)
    )
    assert included.verdict is Verdict.FIRED
    assert included.alerts[0].event is not None
    assert "/tmp/" in included.alerts[0].event["CommandLine"]


def test_no_events_is_told_apart_from_a_rule_that_did_not_fire() -> None:
    rule = RuleRef(sigma_path=RULES / "whoami_exact.yml")
    empty = LocalSigmaBackend()
    assert empty.check_once(rule, window()).verdict is Verdict.NO_EVENTS
    quiet = engine_with(event("/usr/bin/ls", "ls"))
    result = quiet.check_once(rule, window())
    assert result.verdict is Verdict.NOT_FIRED
    assert result.events_seen == 1
    assert "none matched" in result.detail
    late = engine_with(event("/usr/bin/whoami", "whoami", at=3600))
    assert late.check_once(rule, window()).verdict is Verdict.NO_EVENTS  # outside the window


def test_equality_is_case_insensitive_like_sigma() -> None:
    engine = engine_with(event("/USR/BIN/WhoAmI", "WHOAMI"))
    result = engine.check_once(RuleRef(sigma_path=RULES / "whoami_exact.yml"), window())
    assert result.verdict is Verdict.FIRED
    assert result.fired_severity == "low"


def test_regular_expressions_run_through_the_registered_function() -> None:
    engine = engine_with(
        event("/usr/bin/sh", "echo aGVsbG8gd29ybGQgZnJvbSBk | base64 -d"),
        event("/usr/bin/sh", "echo short | base64 -d", at=2),
    )
    result = engine.check_once(RuleRef(sigma_path=RULES / "regex_base64.yml"), window())
    assert result.verdict is Verdict.FIRED
    assert result.matching_events == 1


def test_keyword_rules_search_the_full_text_column() -> None:
    engine = engine_with(event("/usr/bin/rm", "rm -f /home/a/.bash_history"))
    result = engine.check_once(RuleRef(sigma_path=RULES / "keyword_history.yml"), window())
    assert result.verdict is Verdict.FIRED


def test_a_rule_naming_an_absent_field_runs_and_does_not_fire() -> None:
    engine = engine_with(event("/usr/bin/ls", "ls"))
    result = engine.check_once(RuleRef(sigma_path=RULES / "missing_field.yml"), window())
    assert result.verdict is Verdict.NOT_FIRED


def test_integers_beyond_64_bits_are_kept_exact() -> None:
    store = EventStore()
    store.ingest([event("x", "y", Handle=2**64 - 1)], table="process_creation")
    (compiled,), _ = compile_rules([RULES / "big_handle.yml"])
    (match,) = store.match([compiled], Scope())
    assert match.count == 1
    (stored,) = store.events("process_creation", match.sample_rowids)
    assert stored["Handle"] == "18446744073709551615"


@pytest.mark.slow
def test_every_shared_linux_process_creation_rule_converts() -> None:
    compiled, problems = compile_rules(rule_files(linux_rules()))
    assert problems == []
    assert len(compiled) > 100
    assert [r.path for r in compiled if not r.usable] == []
    assert {r.table for r in compiled} == {"process_creation"}


def test_conversions_are_cached_on_disk_by_rule_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = rule_files(RULES)
    cache_file = tmp_path / ".drillbook" / "sigma-cache.db"
    cold = ConversionCache(cache_file)
    first, _ = compile_rules(paths, cold)
    assert cold.misses == len(paths)
    assert cold.hits == 0

    def no_pysigma(text: str, path: str) -> object:
        raise AssertionError("a warm cache must not convert again")

    monkeypatch.setattr(sigma_sqlite, "compile_text", no_pysigma)
    warm = ConversionCache(cache_file)
    second, _ = compile_rules(paths, warm)
    assert warm.hits == len(paths)
    assert warm.misses == 0
    assert [r.condition for r in second] == [r.condition for r in first]


def test_an_edited_rule_is_converted_again(tmp_path: Path) -> None:
    rule = tmp_path / "rule.yml"
    rule.write_text((RULES / "whoami_exact.yml").read_text())
    cache = ConversionCache(tmp_path / "cache.db")
    compile_rules([rule], cache)
    rule.write_text(rule.read_text().replace("/usr/bin/whoami", "/usr/bin/id"))
    (changed,), _ = compile_rules([rule], cache)
    assert "/usr/bin/id" in (changed.condition or "")
    assert cache.misses == 2


def test_a_corrupt_cache_file_is_rebuilt(tmp_path: Path) -> None:
    cache_file = tmp_path / "cache.db"
    cache_file.write_bytes(b"not a database at all" * 100)
    cache = ConversionCache(cache_file)
    compiled, _ = compile_rules([RULES / "whoami_exact.yml"], cache)
    assert compiled[0].usable


def test_a_file_that_is_not_a_sigma_rule_is_a_located_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("title: x\ndetection: [unclosed\n")
    _, problems = compile_rules([bad])
    assert problems
    assert problems[0].location.path == str(bad)
    engine = LocalSigmaBackend()
    with pytest.raises(LibraryError, match=r"bad\.yml"):
        engine.compile([bad])


def test_convert_prints_the_sql_for_a_rule() -> None:
    sql = LocalSigmaBackend().convert((RULES / "whoami_exact.yml").read_text())
    assert sql.startswith('SELECT rowid, * FROM "process_creation" WHERE')
    assert "/usr/bin/whoami" in sql


def test_events_land_in_one_table_per_log_source() -> None:
    engine = LocalSigmaBackend()
    loaded = read_events(DETECTION / "t1082-uname.jsonl")
    engine.ingest_sourced(loaded)
    engine.store.ingest(
        [{"UtcTime": T0.isoformat(), "DestinationIp": "10.0.0.1"}], table="network_connection"
    )
    assert engine.store.tables() == ["network_connection", "process_creation"]
    assert engine.store.count("process_creation", Scope(include_runner=True)) == 6
    assert engine.store.count("process_creation", Scope()) == 5


def test_a_rule_named_by_id_is_found_under_the_rules_folder() -> None:
    engine = LocalSigmaBackend(rules_root=RULES)
    engine.ingest([event("/usr/bin/whoami", "whoami")])
    result = engine.check_once(RuleRef(rule_id="0d8f8a4e-3c55-4b0e-9d7a-000000000001"), window())
    assert result.verdict is Verdict.FIRED
    assert result.rule.title == "Whoami Exact Path"


def test_a_missing_rule_file_names_where_it_was_looked_for() -> None:
    engine = LocalSigmaBackend(rules_root=RULES)
    with pytest.raises(AdapterError, match=r"local: check failed: nope\.yml: no such Sigma"):
        engine.check_once(RuleRef(sigma_path=Path("nope.yml")), window())


def _events_from_rule_literals(rules: list[sigma_sqlite.CompiledRule], seed: int) -> list[dict]:
    """Events built from the rules' own literals (mixed case, joined at random), so many
    rules nearly match and some do: the case where a prefilter could wrongly drop rows."""
    import random
    import re

    rng = random.Random(seed)
    # the literals of the SQL itself, not the anchors under test
    pieces = sorted(
        {
            text.replace("\\", "")
            for r in rules
            for text in re.findall(r"'%?([^'%]{2,})%?'", r.condition or "")
        }
        | {"/usr/bin/", " -c ", "/tmp/"}
    )
    events = []
    for i in range(400):
        words = rng.sample(pieces, 3)
        text = "".join(w.upper() if rng.random() < 0.3 else w for w in words)
        events.append(
            event(
                "/usr/bin/" + rng.choice(pieces).strip("/"),
                text,
                at=i / 100,
                ParentImage=rng.choice(pieces),
                ParentCommandLine=text[::-1],
            )
        )
    return events


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_trigram_prefilter_never_changes_what_fires(seed: int) -> None:
    compiled, _ = compile_rules(rule_files(linux_rules()))
    events = _events_from_rule_literals(compiled, seed)
    plain, indexed = EventStore(), EventStore()
    indexed.prefilter_min_rows = 0
    for store in (plain, indexed):
        store.ingest(events, table="process_creation")
    without = {m.rule.path: (m.count, m.first_time) for m in plain.match(compiled, Scope())}
    with_index = {m.rule.path: (m.count, m.first_time) for m in indexed.match(compiled, Scope())}
    assert with_index == without
    assert sum(1 for count, _ in without.values() if count) >= 5  # the test has teeth


def _answers(store: EventStore, rules: list[sigma_sqlite.CompiledRule]) -> list[tuple]:  # type: ignore[type-arg]
    return [
        (m.rule.path, m.count, m.first_time, m.last_time, m.sample_rowids)
        for m in store.match(rules, Scope())
    ]


def test_matching_on_two_processes_gives_the_same_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A forked child takes half the rules; the answers (counts, times, sample rows) are
    those of one process, and a child that fails is made up for by the parent."""
    import os

    compiled, _ = compile_rules(rule_files(linux_rules()))
    events = _events_from_rule_literals(compiled, 4)
    one, two = EventStore(), EventStore()
    two.workers = 2
    for store in (one, two):
        store.ingest(events, table="process_creation")
    expected = _answers(one, compiled)
    assert sum(1 for row in expected if row[1]) >= 5  # the test has teeth
    assert _answers(two, compiled) == expected

    parent = os.getpid()
    evaluate = EventStore._evaluate

    def broken_in_child(self: EventStore, *args: object, **kwargs: object) -> object:
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return evaluate(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(EventStore, "_evaluate", broken_in_child)
    assert _answers(two, compiled) == expected


def test_each_table_keeps_only_the_columns_its_rules_read() -> None:
    from drillbook.detection.sigma_sqlite import compile_text
    from drillbook.telemetry.readers.jsonl import SourcedEvent

    def rule(category: str, field: str, value: str) -> sigma_sqlite.CompiledRule:
        text = (
            f"title: {field}\nlogsource: {{category: {category}}}\n"
            f"detection:\n  sel:\n    {field}: '{value}'\n  condition: sel\n"
        )
        return compile_text(text, f"{field}.yml")

    rules = [
        rule("process_creation", "Image", "/bin/x"),
        rule("file_event", "TargetFilename", "/t"),
    ]
    both = {"Image": "/bin/x", "TargetFilename": "/t", "Other": "1"}
    engine = LocalSigmaBackend()
    events = [SourcedEvent(dict(both), "process_creation", ("file_event",)) for _ in range(3)]
    engine.load_for(events, rules, aggregate=True)
    columns = {t: set(engine.store._columns[t]) for t in engine.store.tables()}
    assert "targetfilename" not in columns["process_creation"]
    assert "image" not in columns["file_event"]
    assert [m.count for m in engine.run(rules, Scope())] == [3, 3]
