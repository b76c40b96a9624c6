"""A rule set converted before comes back from one bundle row, not rule by rule; equal
rows stored once (aggregated) answer like one row each."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drillbook.clock import FakeClock, use_clock
from drillbook.detection import sigma_sqlite
from drillbook.detection.eventstore import Scope
from drillbook.detection.local import LocalSigmaBackend
from drillbook.detection.sigma_sqlite import ConversionCache, compile_rules, rule_files
from drillbook.errors import LibraryError
from drillbook.telemetry.readers.jsonl import SourcedEvent
from tests.helpers import FILES, shared_data

RULES = FILES / "detection" / "rules"


def test_a_warm_rule_set_is_one_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache_file = tmp_path / "cache.db"
    first, _ = compile_rules(rule_files(RULES), ConversionCache(cache_file))

    def no_row_by_row(self: ConversionCache) -> None:
        raise AssertionError("a warm rule set must not read conversions one by one")

    monkeypatch.setattr(ConversionCache, "_load", no_row_by_row)
    second, problems = compile_rules(rule_files(RULES), ConversionCache(cache_file))
    assert not problems
    assert second == first


def test_an_edited_rule_set_misses_its_bundle(tmp_path: Path) -> None:
    folder = tmp_path / "rules"
    folder.mkdir()
    for path in rule_files(RULES):
        (folder / path.name).write_bytes(path.read_bytes())
    cache_file = tmp_path / "cache.db"
    compile_rules(rule_files(folder), ConversionCache(cache_file))
    edited = folder / "whoami_exact.yml"
    edited.write_text(edited.read_text().replace("/usr/bin/whoami", "/usr/bin/id"))
    cache = ConversionCache(cache_file)
    rules, _ = compile_rules(rule_files(folder), cache)
    assert cache.misses == 1  # only the edited rule converts again
    assert any("/usr/bin/id" in (r.condition or "") for r in rules)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["/usr/bin/whoami", "/usr/bin/uname", "/bin/ls"]),
            st.sampled_from(["whoami", "uname -a", "ls -la"]),
            st.integers(0, 10_000),
        ),
        max_size=40,
    )
)
def test_aggregated_rows_give_the_same_counts_and_times(
    events: list[tuple[str, str, int]],
) -> None:
    """Equal rows stored once with their count answer exactly like one row each."""
    compiled, _ = compile_rules(rule_files(RULES))
    flat = [
        {"Image": image, "CommandLine": line, "UtcTime": 1_777_000_000 + second}
        for image, line, second in events
    ]
    answers = []
    for aggregate in (False, True):
        engine = LocalSigmaBackend()
        engine.load_for(
            (SourcedEvent(dict(e), "process_creation") for e in flat),
            compiled,
            aggregate=aggregate,
        )
        answers.append(
            [(m.count, m.first_time, m.last_time) for m in engine.run(compiled, Scope())]
        )
    assert answers[0] == answers[1]


# -- finding a bundle by the rule files' stat signature ------------------------------------

LONG_AGO = 1_700_000_000  # a file time far before any test's clock


def _copied_rules(folder: Path) -> Path:
    """The test rules in a folder of their own, their times set long ago (a checkout
    that has settled)."""
    folder.mkdir()
    for path in rule_files(RULES):
        copy = folder / path.name
        copy.write_bytes(path.read_bytes())
        os.utime(copy, (LONG_AGO, LONG_AGO))
    return folder


def _later_than_the_files(clock_now: datetime) -> FakeClock:
    """A clock after every file was written (ctime, which no one can set, is now)."""
    return FakeClock(clock_now + timedelta(minutes=5))


def test_unchanged_rule_files_are_not_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _copied_rules(tmp_path / "rules")
    cache_file = tmp_path / "cache.db"
    with use_clock(_later_than_the_files(datetime.now(UTC))):
        first, _ = compile_rules(rule_files(folder), ConversionCache(cache_file))

        def no_reading(self: Path) -> bytes:
            raise AssertionError(f"{self} was read although no rule file changed")

        monkeypatch.setattr(Path, "read_bytes", no_reading)
        second, problems = compile_rules(rule_files(folder), ConversionCache(cache_file))
    assert not problems
    assert second == first


@pytest.mark.parametrize("edit", ["same size", "longer"])
def test_an_edited_rule_file_is_noticed_without_hashing_the_others(
    tmp_path: Path, edit: str
) -> None:
    folder = _copied_rules(tmp_path / "rules")
    cache_file = tmp_path / "cache.db"
    with use_clock(_later_than_the_files(datetime.now(UTC))) as fake:
        compile_rules(rule_files(folder), ConversionCache(cache_file))
        edited = folder / "whoami_exact.yml"
        text = edited.read_text()
        # same size: only the file's times and change time tell (the inode stays)
        new = "/usr/bin/whoamI" if edit == "same size" else "/usr/bin/id --long"
        edited.write_text(text.replace("/usr/bin/whoami", new))
        assert (edited.stat().st_size == len(text)) == (edit == "same size")
        assert isinstance(fake, FakeClock)
        fake.advance(timedelta(minutes=5))
        cache = ConversionCache(cache_file)
        rules, _ = compile_rules(rule_files(folder), cache)
    assert cache.misses == 1  # only the edited rule converts again
    assert any(new in (r.condition or "") for r in rules)


def test_a_rule_file_changed_a_moment_ago_is_hashed(tmp_path: Path) -> None:
    """Within the file system's timestamp granularity, a file written twice can keep
    its times: until it has settled, its content decides."""
    folder = tmp_path / "rules"
    folder.mkdir()
    for path in rule_files(RULES):
        (folder / path.name).write_bytes(path.read_bytes())
    files = rule_files(folder)
    assert sigma_sqlite.stat_signature(files) is None  # just written
    with use_clock(_later_than_the_files(datetime.now(UTC))):
        assert sigma_sqlite.stat_signature(files) is not None


def test_a_regression_sample_path_cannot_leave_the_repository(tmp_path: Path) -> None:
    """A hostile info.yml (say, in a pull request to a rule repository) must not make CI
    read files outside the repository as events."""
    from drillbook.detection.regression import find_cases
    from drillbook.errors import LibraryError

    secret = tmp_path / "secret.json"
    secret.write_text('{"Image": "token"}')
    case = tmp_path / "repo" / "regression_data" / "rule"
    case.mkdir(parents=True)
    for written in ("../../../secret.json", str(secret)):
        (case / "info.yml").write_text(
            "rule_metadata:\n  - id: 0d8f8a4e-3c55-4b0e-9d7a-000000000001\n"
            f"regression_tests_info:\n  - type: json\n    match_count: 1\n    path: {written}\n"
        )
        with pytest.raises(LibraryError, match="not found inside"):
            find_cases(tmp_path / "repo" / "regression_data")
    (case / "sample.json").write_text('{"Image": "/usr/bin/whoami"}')
    (case / "info.yml").write_text(
        "rule_metadata:\n  - id: 0d8f8a4e-3c55-4b0e-9d7a-000000000001\n"
        "regression_tests_info:\n  - type: json\n    match_count: 1\n"
        "    path: regression_data/rule/sample.json\n"
    )
    (found,) = find_cases(tmp_path / "repo" / "regression_data")
    assert found.sample == case / "sample.json"


# -- reading rule files with libyaml -----------------------------------------------------

TRICKY_RULES = [
    # anchors and aliases, a block scalar, a date, quoting styles
    "title: &t Anchored\ndate: 2024-01-02\ndescription: |\n  two\n  lines\n"
    "logsource: {category: process_creation}\ndetection:\n  sel:\n"
    "    CommandLine|contains: [\"a\\tb\", 'it''s', plain]\n  condition: sel\n",
    # a key given twice (the safe loaders keep the last)
    "title: Twice\nlevel: low\nlevel: high\nlogsource: {category: process_creation}\n"
    "detection: {sel: {Image: x}, condition: sel}\n",
    # several documents (a rule collection with a global action)
    "action: global\ntitle: Base\nlogsource: {category: process_creation}\n---\n"
    "detection: {sel: {Image: y}, condition: sel}\n",
    # unicode, a byte-order mark, Windows line endings
    "\ufefftitle: Ünïcödé\r\nlogsource: {category: process_creation}\r\n"
    "detection: {sel: {Image: 'C:\\\\ü.exe'}, condition: sel}\r\n",
    # not YAML / not a rule
    "title: [unclosed\n",
    "title: Tab\tindented\n\tlevel: low\n",
    "- just\n- a list\n",
    "",
]


@pytest.mark.parametrize("text", TRICKY_RULES)
def test_libyaml_reads_rule_files_as_pysigma_reads_them(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule file converts (or fails, with the same words) the same through libyaml's
    loader as through the pure-Python one pySigma uses."""
    import yaml

    def outcome() -> object:
        try:
            return sigma_sqlite.compile_text(text, "r.yml")
        except LibraryError as exc:
            return str(exc)

    fast = outcome()
    monkeypatch.setattr(yaml, "CSafeLoader", None)
    assert outcome() == fast


@pytest.mark.slow
def test_every_sigmahq_rule_converts_the_same_through_libyaml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import yaml

    files = sigma_sqlite.rule_files(shared_data() / "sigma" / "rules" / "linux")
    files += sigma_sqlite.rule_files(
        shared_data() / "sigma" / "rules" / "windows" / "process_creation"
    )[:300]
    fast = [sigma_sqlite.compile_text(f.read_text(), str(f)) for f in files]
    monkeypatch.setattr(yaml, "CSafeLoader", None)
    assert [sigma_sqlite.compile_text(f.read_text(), str(f)) for f in files] == fast
