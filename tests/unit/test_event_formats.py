"""Events in every shape users hold them: JSON lines, arrays, documents, EVTX-as-JSON,
syslog and auditd text; folders walked by extension; Windows events routed to the log
sources SigmaHQ's rules read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drillbook.detection.local import LocalSigmaBackend
from drillbook.detection.sigma_sqlite import compile_text
from drillbook.errors import LibraryError
from drillbook.telemetry.readers.documents import parse_json_text
from drillbook.telemetry.readers.files import ReadReport, read_events, sniff
from drillbook.telemetry.readers.text import parse_audit_line, parse_text_lines
from drillbook.telemetry.readers.windows import windows_logsources
from tests.unit.test_detect_readers import SYSMON_RECORD


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


EVENTS = [{"Image": "/usr/bin/id", "n": 1}, {"Image": "/usr/bin/uname", "n": 2}]


@pytest.mark.parametrize(
    "text",
    [
        "\n".join(json.dumps(e) for e in EVENTS),
        json.dumps(EVENTS, indent=2),
        "\n".join(json.dumps(e, indent=4) for e in EVENTS),
        json.dumps(EVENTS[0]) + json.dumps(EVENTS[1]),
        "\ufeff" + json.dumps(EVENTS),
    ],
    ids=["lines", "array", "pretty-documents", "concatenated", "bom-array"],
)
def test_every_json_shape_gives_the_same_events(text: str) -> None:
    assert [s.event for s in parse_json_text(text, "x.json")] == [
        {"Image": "/usr/bin/id", "n": 1},
        {"Image": "/usr/bin/uname", "n": 2},
    ]


def test_a_broken_document_names_its_line_and_column() -> None:
    text = json.dumps(EVENTS[0], indent=2) + '\n{\n  "Image": \n}\n'
    with pytest.raises(LibraryError, match=r"x\.json:7:1: not JSON"):
        list(parse_json_text(text, "x.json"))


def test_evtx_json_documents_are_flattened_and_routed() -> None:
    (item,) = parse_json_text(json.dumps(SYSMON_RECORD, indent=2), "sample.json")
    assert item.event["Image"].endswith("systeminfo.exe")
    assert item.tables("process_creation") == ("process_creation", "sysmon", "windows")


def test_flat_windows_json_is_routed_like_evtx() -> None:
    line = {"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 13, "Details": "x"}
    (item,) = parse_json_text(json.dumps(line), "flat.jsonl")
    assert item.tables("process_creation")[:2] == ("registry_set", "registry_event")


@pytest.mark.parametrize(
    ("channel", "event_id", "expected"),
    [
        ("Microsoft-Windows-Sysmon/Operational", 12, {"registry_add", "registry_delete"}),
        ("Microsoft-Windows-Sysmon/Operational", 13, {"registry_set", "registry_event"}),
        ("Microsoft-Windows-Sysmon/Operational", 14, {"registry_rename", "registry_event"}),
        ("Microsoft-Windows-Sysmon/Operational", 16, {"sysmon_status", "sysmon"}),
        ("Microsoft-Windows-Sysmon/Operational", 22, {"dns_query"}),
        ("Microsoft-Windows-PowerShell/Operational", 4104, {"ps_script", "powershell"}),
        ("Microsoft-Windows-PowerShell/Operational", 4103, {"ps_module"}),
        ("PowerShellCore/Operational", 4104, {"ps_script"}),
        ("Windows PowerShell", 400, {"ps_classic_start", "powershell-classic"}),
        ("Windows PowerShell", 600, {"ps_classic_provider_start"}),
        ("Windows PowerShell", 800, {"ps_classic_script"}),
        ("Microsoft-Windows-Windows Defender/Operational", 1116, {"windefend"}),
        ("Security", 4624, {"security"}),
        ("System", 7045, {"system"}),
        ("Microsoft-Windows-TaskScheduler/Operational", 106, {"taskscheduler"}),
        ("Microsoft-Windows-WMI-Activity/Operational", 5861, {"wmi"}),
        ("Microsoft-Windows-CodeIntegrity/Operational", 3033, {"codeintegrity-operational"}),
        ("Some-Vendor/Operational", 1, {"some_vendor_operational"}),
    ],
)
def test_windows_events_reach_the_log_sources_sigmahq_rules_read(
    channel: str, event_id: int, expected: set[str]
) -> None:
    found = windows_logsources({"Channel": channel, "EventID": event_id})
    assert expected <= set(found)
    assert found[-1] == "windows"


def test_sysmon_categories_go_only_to_their_own_event_ids() -> None:
    found = windows_logsources({"Channel": "Microsoft-Windows-Sysmon/Operational", "EventID": 1})
    assert "registry_set" not in found
    security = windows_logsources({"Channel": "Security", "EventID": 4104})
    assert "ps_script" not in security


def test_auditd_records_decode_hex_arguments() -> None:
    line = (
        'type=EXECVE msg=audit(1777473001.120:77): argc=3 a0="chage" a1="-l" '
        "a2=616C69636520736D697468"
    )
    event = parse_audit_line(line)
    assert event is not None
    assert event["type"] == "EXECVE"
    assert (event["a0"], event["a1"], event["a2"]) == ("chage", "-l", "alice smith")
    assert event["timestamp"].startswith("2026-04-29T14:30:01")


def test_syslog_lines_go_to_syslog_linux_and_the_daemons_service() -> None:
    lines = [
        "Apr 29 14:30:01 web-1 sshd[412]: Accepted publickey for alice",
        "2026-04-29T14:30:02Z web-1 cron[7]: (root) CMD (run-parts)",
        "a line of no known shape",
    ]
    sshd, cron, other = parse_text_lines(lines, year=2026)
    assert sshd.tables("x") == ("syslog", "linux", "sshd")
    assert sshd.event["program"] == "sshd"
    assert sshd.event["pid"] == "412"
    assert sshd.event["timestamp"] == "2026-04-29T14:30:01+00:00"
    assert cron.tables("x") == ("syslog", "linux", "cron")
    assert other.tables("x") == ("syslog", "linux")
    assert other.event["_raw"] == "a line of no known shape"


def test_keyword_rules_fire_on_syslog_text(tmp_path: Path) -> None:
    rule = compile_text(
        "title: History cleared\nlogsource: {product: linux}\n"
        "detection:\n  keywords: ['rm *bash_history']\n  condition: keywords\n",
        "r.yml",
    )
    log = write(tmp_path / "auth.log", "Apr 29 14:30:01 h bash[1]: rm -f ~/.bash_history\n")
    engine = LocalSigmaBackend()
    engine.ingest_sourced(read_events(log), only={rule.table})
    from drillbook.detection.eventstore import Scope

    assert [m.count for m in engine.run([rule], Scope())] == [1]


def test_folders_are_walked_by_extension_and_unknown_files_skipped(tmp_path: Path) -> None:
    write(tmp_path / "a" / "events.jsonl", json.dumps(EVENTS[0]) + "\n")
    write(tmp_path / "b.json", json.dumps(EVENTS, indent=2))
    write(tmp_path / "auth.log", "Apr 29 14:30:01 h sshd[1]: hello\n")
    write(tmp_path / ".vscode" / "settings.json", '{"editor.tabSize": 4}')
    write(tmp_path / "info.yml", "id: x\n")
    write(tmp_path / "notes.docx", "binary")
    report = ReadReport()
    events = list(read_events(tmp_path, report=report))
    assert len(events) == 4
    assert report.events == 4
    assert sorted(p.name for p, _ in report.skipped) == ["info.yml", "notes.docx", "settings.json"]


def test_a_forced_format_wins_over_the_content(tmp_path: Path) -> None:
    path = write(tmp_path / "x.log", "type=EXECVE msg=audit(1.0:1): argc=1 a0=ls\n")
    (auditd,) = read_events(path)
    assert auditd.logsource == "auditd"
    (syslog,) = read_events(path, "syslog")
    assert syslog.logsource == "syslog"
    with pytest.raises(LibraryError, match="unknown events format 'xml'"):
        list(read_events(path, "xml"))


def test_repeats_within_one_format_all_count(tmp_path: Path) -> None:
    # two exports of one log hold real repeats; only an EVTX file and its JSON export
    # count once (see tests/integration/test_sigma_regression.py)
    write(tmp_path / "a.json", json.dumps(SYSMON_RECORD, indent=2))
    write(tmp_path / "b.json", json.dumps([SYSMON_RECORD]))
    report = ReadReport()
    assert len(list(read_events(tmp_path, report=report))) == 2
    assert report.duplicates == 0


def test_events_no_rule_reads_are_dropped_while_reading(tmp_path: Path) -> None:
    write(tmp_path / "a.json", json.dumps(SYSMON_RECORD))
    report = ReadReport()
    assert list(read_events(tmp_path, report=report, wanted={"dns_query"})) == []
    assert report.unread == 1
    (kept,) = read_events(tmp_path, wanted={"sysmon"})
    assert kept.event["Image"].endswith("systeminfo.exe")


def test_sniffing_tells_the_format_from_the_first_bytes(tmp_path: Path) -> None:
    assert sniff(write(tmp_path / "a.txt", "  [1]")) == "json"
    assert sniff(write(tmp_path / "b.json", "Apr 29 x")) == "text"
    evtx = tmp_path / "c.bin"
    evtx.write_bytes(b"ElfFile\x00" + b"\x00" * 100)
    assert sniff(evtx) == "evtx"


def test_unreached_log_sources_are_named(tmp_path: Path) -> None:
    dns = compile_text(
        "title: DNS\nlogsource: {product: windows, category: dns_query}\n"
        "detection:\n  sel: {QueryName: x}\n  condition: sel\n",
        "dns.yml",
    )
    engine = LocalSigmaBackend()
    engine.ingest_sourced(parse_json_text(json.dumps(SYSMON_RECORD), "s.json"), only={"x"})
    assert engine.unreached([dns, dns]) == {"dns_query": 2}
    assert engine.store.tables() == []  # nothing stored that no rule reads


# -- properties -----------------------------------------------------------------------

json_scalars = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=8)
objects = st.lists(
    st.dictionaries(st.text(alphabet="abcXYZ_", min_size=1, max_size=6), json_scalars, max_size=4),
    min_size=1,
    max_size=4,
)


@given(objects)
def test_lines_array_and_documents_agree(events: list[dict[str, Any]]) -> None:
    lines = "\n".join(json.dumps(e) for e in events)
    array = json.dumps(events, indent=1)
    documents = "\n".join(json.dumps(e, indent=2) for e in events)
    parsed = [[s.event for s in parse_json_text(t, "p.json")] for t in (lines, array, documents)]
    assert parsed[0] == parsed[1] == parsed[2]
    assert len(parsed[0]) == len(events)


@given(st.text(max_size=300))
def test_json_text_never_fails_other_than_cleanly(text: str) -> None:
    problems: list[Any] = []
    events: list[Any] = []
    try:
        events = list(parse_json_text(text, "fuzz.json"))
    except LibraryError as exc:
        problems = list(exc.problems)
    assert all(str(p.location.path) == "fuzz.json" for p in problems)
    assert all(isinstance(e.event, dict) for e in events)


@given(st.text(max_size=200))
def test_text_lines_never_fail_and_keep_the_line(text: str) -> None:
    for item in parse_text_lines(text.splitlines(), year=2026):
        assert item.logsource in ("syslog", "auditd")
        assert isinstance(item.event["_raw"], str)


@given(
    st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True),
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789/-.", min_size=1, max_size=12),
        max_size=5,
    )
)
def test_audit_key_values_survive_the_round_trip(pairs: dict[str, str]) -> None:
    body = " ".join(f'{k}="{v}"' for k, v in pairs.items())
    event = parse_audit_line(f"type=SYSCALL msg=audit(1777473001.5:9): {body}")
    assert event is not None
    for key, value in pairs.items():
        if key not in ("type", "timestamp", "serial"):
            assert event[key] == value
