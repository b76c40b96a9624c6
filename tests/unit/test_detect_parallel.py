"""``detect run`` on both cores: forked children for converting rules and for a share of
the event files, and the EVTX reader's shortcut for records no loaded rule reads. Each
must give the answers of one process reading everything."""

from __future__ import annotations

import itertools
import json
import os
import random
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drillbook.detection import file_runs, forked, sigma_sqlite
from drillbook.detection.file_runs import run_over_files
from drillbook.detection.forked import run_forked
from drillbook.detection.local import LocalSigmaBackend
from drillbook.detection.sigma_sqlite import compile_rules, rule_files
from drillbook.telemetry.readers import evtx
from drillbook.telemetry.readers.files import ReadReport
from tests.helpers import FILES, shared_data

RULES = FILES / "detection" / "rules"


def _double_unless_child(parent: int, value: int) -> int:
    if os.getpid() != parent:
        raise RuntimeError("the child fails")
    return value * 2


def _watch_forks(monkeypatch: pytest.MonkeyPatch, module: object) -> list[tuple[int, list[object]]]:
    """Record each ``run_forked`` call made through ``module``: how many parts, and the
    answers."""
    calls: list[tuple[int, list[object]]] = []
    real = forked.run_forked

    def watched(work: object, parts: list[object]) -> list[object]:
        answers = real(work, parts)  # type: ignore[arg-type]
        calls.append((len(parts), answers))
        return answers

    monkeypatch.setattr(module, "run_forked", watched)
    return calls


def test_forked_parts_answer_in_order_and_a_failed_child_is_made_up_for() -> None:
    assert run_forked(lambda n: n * 2, [1, 2, 3]) == [2, 4, 6]
    parent = os.getpid()
    assert run_forked(lambda n: _double_unless_child(parent, n), [5, 6, 7]) == [10, 12, 14]


def test_a_failure_here_is_raised_and_leaves_no_child_behind() -> None:
    """The children's work is not waited for: they are stopped and reaped."""
    import time

    def work(n: int) -> int:
        if n == 0:
            raise ValueError("here")
        time.sleep(60)
        return n

    began = time.monotonic()
    with pytest.raises(ValueError, match="here"):
        run_forked(work, [0, 1])
    assert time.monotonic() - began < 30
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # every child was waited for


def test_converting_on_two_processes_gives_the_same_rules_and_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for rule in rule_files(RULES):
        (tmp_path / rule.name).write_bytes(rule.read_bytes())
    (tmp_path / "zz-broken.yml").write_text("title: [unclosed\n", encoding="utf-8")
    files = rule_files(tmp_path)
    assert len(files) >= 3
    serial = compile_rules(files, workers=1)
    monkeypatch.setattr(sigma_sqlite, "FORK_MIN_RULES", 2)
    forks = _watch_forks(monkeypatch, forked)
    assert compile_rules(files, workers=2) == serial
    assert [parts for parts, _ in forks] == [2]
    assert [str(p.location.path) for p in serial[1]] == [str(tmp_path / "zz-broken.yml")]


RULE = """title: {title}
id: 00000000-0000-4000-8000-00000000000{n}
logsource: {{category: process_creation}}
detection:
  sel: {{CommandLine|contains: '{needle}'}}
  condition: sel
"""


def _folder(tmp_path: Path, files: int, per_file: int) -> tuple[Path, list[object]]:
    rules = tmp_path / "rules"
    rules.mkdir()
    for n, needle in enumerate(["whoami", "base64 -d", "curl", "chmod +x"]):
        (rules / f"r{n}.yml").write_text(
            RULE.format(title=f"rule {n}", n=n, needle=needle), encoding="utf-8"
        )
    compiled, _ = compile_rules(rule_files(rules))
    events = tmp_path / "events"
    events.mkdir()
    rng = random.Random(7)
    lines = ["whoami /all", "echo aGk= | base64 -d", "curl -s x", "chmod +x a", "ls", "id"]
    for f in range(files):
        with (events / f"part{f:02d}.jsonl").open("w", encoding="utf-8") as out:
            for n in range(per_file):
                second = rng.randrange(0, 3600)
                event = {
                    "UtcTime": f"2026-04-29T{10 + second // 3600:02d}:{second // 60 % 60:02d}:"
                    f"{second % 60:02d}Z",
                    "Image": "/usr/bin/sh",
                    "CommandLine": rng.choice(lines) + f" #{f}-{n}" * (n % 2),
                }
                out.write(json.dumps(event) + "\n")
    return events, compiled


def _run(events: Path, compiled: list[object], workers: int) -> tuple[object, ...]:
    engine = LocalSigmaBackend()
    engine.store.workers = workers
    report = ReadReport()
    matches = run_over_files(engine, compiled, events, report, aggregate=True)  # type: ignore[arg-type]
    found = [(m.rule.title, m.count, m.first_time, m.last_time) for m in matches]
    return found, report.events, report.unread, sorted(engine.store.reached), report.files


def test_sharing_the_files_out_gives_the_answers_of_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events, compiled = _folder(tmp_path, files=5, per_file=300)
    alone = _run(events, compiled, workers=1)
    assert all(count for _, count, _, _ in alone[0])  # every rule fires: the test has teeth
    monkeypatch.setattr(file_runs, "SPLIT_MIN_BYTES", 0)
    shared = _watch_forks(monkeypatch, file_runs)
    assert _run(events, compiled, workers=2) == alone
    assert [parts for parts, _ in shared] == [2]


@pytest.mark.parametrize("workers", [1, 2])
def test_each_file_is_sniffed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    """A file's format is told from its first bytes once, before the work is shared."""
    from drillbook.telemetry.readers import files as readers

    events, compiled = _folder(tmp_path, files=4, per_file=50)
    monkeypatch.setattr(file_runs, "SPLIT_MIN_BYTES", 0)
    sniffed: list[str] = []
    real = readers.sniff

    def counted(path: Path) -> str:
        sniffed.append(path.name)
        return real(path)

    monkeypatch.setattr(readers, "sniff", counted)
    _run(events, compiled, workers=workers)
    assert sorted(sniffed) == sorted(p.name for p in events.iterdir())


def test_files_of_two_formats_are_not_shared_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An event read from an EVTX file and its JSON export counts once, which takes
    seeing both: such a folder is read by one process."""
    events, compiled = _folder(tmp_path, files=2, per_file=50)
    (events / "host.log").write_text("Apr 29 10:00:00 host sshd[1]: whoami\n", encoding="utf-8")
    monkeypatch.setattr(file_runs, "SPLIT_MIN_BYTES", 0)

    def refuse(work: object, parts: object) -> object:
        raise AssertionError("files of two formats were shared out")

    monkeypatch.setattr(file_runs, "run_forked", refuse)
    _found, total, unread, *_ = _run(events, compiled, workers=2)
    assert (total, unread) == (100, 1)  # the syslog line goes where no rule reads


# -- the EVTX reader's shortcut ----------------------------------------------------------

CHANNELS = ["Microsoft-Windows-Sysmon/Operational", "Security", "System", 'Odd "Channel"']
WANTED = [{"process_creation"}, {"security"}, {"registry_set", "system"}, {"nothing"}]


def _record(channel: str, number: int, wrapped: bool, data: dict[str, object]) -> dict:  # type: ignore[type-arg]
    event_id: object = {"#attributes": {"Qualifiers": 0}, "#text": number} if wrapped else number
    return {
        "Event": {
            "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
            "System": {"Provider": {"#attributes": {"Name": "x"}}, "EventID": event_id,
                       "Channel": channel, "Computer": "pc"},
            "EventData": data,
        }
    }  # fmt: skip


values = st.one_of(
    st.text(max_size=20),
    st.sampled_from(['"System": {"Channel": "Security"}', "System", '\\"System\\":']),
    st.integers(),
)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(CHANNELS),
    st.sampled_from([1, 4624, 4688, 13, 7]),
    st.booleans(),
    st.dictionaries(st.sampled_from(["Image", "System", "Channel", "EventID"]), values),
    st.sampled_from(WANTED),
    st.sampled_from(["plain", "indented", "data-first", "twice"]),
)
def test_the_shortcut_never_disagrees_with_decoding_the_whole_record(
    channel: str,
    number: int,
    wrapped: bool,
    data: dict[str, object],
    wanted: set[str],
    layout: str,
) -> None:
    record = _record(channel, number, wrapped, data)
    if layout == "data-first":  # a crafted record: event data before System
        inner = record["Event"]
        record["Event"] = {"EventData": inner["EventData"], "System": inner["System"]}
    text = json.dumps(record, indent=2 if layout == "indented" else None)
    if layout == "twice":  # a crafted record naming System twice: the decoder keeps the last
        text = text.replace('"EventData": ', '"System": {"Channel": "Security"}, "EventData": ')
    quick = evtx._wanted_from_text(text, wanted)
    assert quick in (None, evtx._wanted(json.loads(text), wanted))
    if layout in ("plain", "indented") and "System" not in data:
        assert quick is not None  # the shortcut is taken where it is exact


def test_the_shortcut_agrees_on_real_logs() -> None:
    from evtx import PyEvtxParser

    samples = sorted((shared_data() / "evtx-attack-samples").rglob("*.evtx"))[:80]
    checked = 0
    for path in samples:
        for record in PyEvtxParser(str(path)).records_json():
            text = record["data"]
            for wanted in WANTED:
                quick = evtx._wanted_from_text(text, wanted)
                assert quick is not None, path
                assert quick == evtx._wanted(json.loads(text), wanted), path
            checked += 1
    assert checked > 500


def _screened_out(text: str, wanted: set[str]) -> bool:
    screen = evtx._screen(frozenset(wanted))
    compact = text.startswith(evtx._COMPACT_START)
    return screen is not None and compact and screen.search(text.lower()) is None


SCREEN_CHANNELS = [
    *CHANNELS,
    "Process Creation",  # no Sigma service: its events go to the table named after it
    "-PROCESS_creation-",
    "process\ncreation",
    "Microsoft-Windows-SYSMON/Operational",
    "Windows PowerShell",
    "\u212aelvin",
    "",
]
SCREEN_WANTED = [*WANTED, {"ps_classic_start"}, {"windefend", "sysmon"}, {"kelvin"}]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(SCREEN_CHANNELS),
    st.sampled_from([1, 400, 4104, 4688, 13]),
    st.booleans(),
    st.dictionaries(st.sampled_from(["Image", "Channel", "EventID"]), values),
    st.sampled_from(SCREEN_WANTED),
)
def test_the_channel_screen_never_drops_a_wanted_record(
    channel: str, number: int, wrapped: bool, data: dict[str, object], wanted: set[str]
) -> None:
    """A record screened out by its text is one that decoding would not route to a
    wanted table (JSON written compactly, as the evtx package writes it)."""
    record = _record(channel, number, wrapped, data)
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
    if _screened_out(text, wanted):
        assert not evtx._wanted(json.loads(text), wanted)


def test_the_channel_screen_agrees_on_real_logs() -> None:
    from evtx import PyEvtxParser

    samples = sorted((shared_data() / "evtx-attack-samples").rglob("*.evtx"))
    screened = 0
    for path in samples[::3]:
        for record in PyEvtxParser(str(path)).records_json():
            text = record["data"]
            for wanted in SCREEN_WANTED:
                if _screened_out(text, wanted):
                    assert not evtx._wanted(json.loads(text), wanted), path
                    screened += 1
    assert screened > 1000  # the screen does spare decoding


# -- one large log, read in pieces ---------------------------------------------------------

line_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(line_text, st.sampled_from(["\n", "\r\n", "\r", ""])), max_size=40),
    st.integers(min_value=2, max_value=5),
    st.booleans(),
)
def test_pieces_of_a_file_hold_exactly_its_lines(
    tmp_path_factory: pytest.TempPathFactory,
    lines: list[tuple[str, str]],
    parts: int,
    bom: bool,
) -> None:
    from drillbook.telemetry.readers.pieces import line_pieces, open_piece

    path = tmp_path_factory.mktemp("pieces") / "log.txt"
    data = "".join(text + end for text, end in lines).encode("utf-8", "surrogatepass")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data + b"\xff\xfe broken")
    with path.open(encoding="utf-8", errors="replace") as handle:
        whole = list(handle)
    pieces = line_pieces(path, parts)
    assert pieces[0].start == 0
    read: list[str] = []
    for piece in pieces:
        with open_piece(piece, "utf-8", "replace") as handle:
            read.extend(handle)
    assert read == whole


def test_a_bad_line_in_a_piece_is_reported_at_its_line_in_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drillbook.errors import LibraryError

    events, compiled = _folder(tmp_path, files=1, per_file=400)
    (log,) = events.iterdir()
    lines = log.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[350] = '{"CommandLine": oops}\n'
    log.write_text("".join(lines), encoding="utf-8")
    monkeypatch.setattr(file_runs, "SPLIT_MIN_BYTES", 0)
    with pytest.raises(LibraryError, match=r"part00\.jsonl:351:\d+: not JSON"):
        _run(events, compiled, workers=2)


def test_one_large_log_is_shared_out_in_pieces_with_the_same_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events, compiled = _folder(tmp_path, files=1, per_file=3000)
    alone = _run(events, compiled, workers=1)
    monkeypatch.setattr(file_runs, "SPLIT_MIN_BYTES", 0)
    (log,) = events.iterdir()
    units = file_runs._units([log], 2, "json", {log: log.stat().st_size})
    assert len(units) == 2 * file_runs.PIECES_PER_PROCESS
    pieces = [piece for unit in units for piece in unit]
    bounds = sorted((p.start, p.end) for p in pieces)
    assert bounds[0][0] == 0
    assert bounds[-1][1] is None
    assert all(end == start for (_, end), (start, _) in itertools.pairwise(bounds))
    calls = _watch_forks(monkeypatch, file_runs)
    assert _run(events, compiled, workers=2) == alone
    ((_, answers),) = calls
    taken = sorted(n for answer in answers for n in answer.taken)  # type: ignore[attr-defined]
    assert taken == list(range(len(units)))


def test_a_child_that_fails_after_taking_work_leaves_nothing_uncounted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pieces a failed child took are gone from the queue: the run notices that not
    every piece was counted and reads everything here instead."""
    events, compiled = _folder(tmp_path, files=6, per_file=200)
    alone = _run(events, compiled, workers=1)
    monkeypatch.setattr(file_runs, "SPLIT_MIN_BYTES", 0)
    parent = os.getpid()
    real_run = LocalSigmaBackend.run

    def failing_in_child(self: LocalSigmaBackend, *args: object) -> object:
        if os.getpid() != parent:
            raise RuntimeError("the child fails after reading its pieces")
        return real_run(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(LocalSigmaBackend, "run", failing_in_child)
    assert _run(events, compiled, workers=2) == alone


def test_more_files_than_units_are_dealt_into_units_with_the_same_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events, compiled = _folder(tmp_path, files=7, per_file=100)
    alone = _run(events, compiled, workers=1)
    monkeypatch.setattr(file_runs, "SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(file_runs, "MAX_UNITS", 3)
    files = sorted(events.iterdir())
    units = file_runs._units(files, 2, "json", {p: p.stat().st_size for p in files})
    assert len(units) == 3
    assert sorted(p.path.name for unit in units for p in unit) == sorted(
        p.name for p in events.iterdir()
    )
    assert _run(events, compiled, workers=2) == alone


def test_a_work_queue_that_cannot_be_filled_means_working_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events, compiled = _folder(tmp_path, files=3, per_file=100)
    alone = _run(events, compiled, workers=1)
    monkeypatch.setattr(file_runs, "SPLIT_MIN_BYTES", 0)

    def full(count: int) -> None:
        raise BlockingIOError("the pipe is full")

    monkeypatch.setattr(file_runs, "_WorkQueue", full)
    assert _run(events, compiled, workers=2) == alone
