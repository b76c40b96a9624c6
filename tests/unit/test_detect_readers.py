"""Telemetry readers: JSON lines and EVTX records flattened the way Sigma expects."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drillbook.errors import LibraryError
from drillbook.telemetry.readers.evtx import flatten_record, logsource_for, read_evtx
from drillbook.telemetry.readers.fields import (
    event_time,
    flatten,
    normalise_name,
    parse_time,
    scalar,
)
from drillbook.telemetry.readers.jsonl import parse_lines, read_jsonl
from tests.helpers import FILES

# The shape the evtx package's records_json() yields for a Sysmon process creation.
SYSMON_RECORD: dict[str, Any] = {
    "Event": {
        "#attributes": {"xmlns": "http://schemas.microsoft.com/win/2004/08/events/event"},
        "System": {
            "Provider": {
                "#attributes": {
                    "Name": "Microsoft-Windows-Sysmon",
                    "Guid": "5770385F-C22A-43E0-BF4C-06F5698FFBD9",
                }
            },
            "EventID": 1,
            "Version": 5,
            "Level": 4,
            "TimeCreated": {"#attributes": {"SystemTime": "2026-04-29T14:30:01.131000Z"}},
            "EventRecordID": 48211,
            "Execution": {"#attributes": {"ProcessID": 2412, "ThreadID": 3520}},
            "Channel": "Microsoft-Windows-Sysmon/Operational",
            "Computer": "WIN-DRILL-01",
            "Security": {"#attributes": {"UserID": "S-1-5-18"}},
        },
        "EventData": {
            "RuleName": "-",
            "UtcTime": "2026-04-29 14:30:01.131",
            "ProcessId": 7312,
            "Image": "C:\\Windows\\System32\\systeminfo.exe",
            "CommandLine": "systeminfo",
            "ParentImage": "C:\\Windows\\System32\\cmd.exe",
            "User": "DRILL\\alice",
            "Hashes": "SHA256=0A1B",
        },
    }
}

DEFENDER_RECORD: dict[str, Any] = {
    "Event": {
        "System": {
            "Provider": {"#attributes": {"Name": "Microsoft-Windows-Windows Defender"}},
            "EventID": {"#attributes": {"Qualifiers": 0}, "#text": 1116},
            "Channel": "Microsoft-Windows-Windows Defender/Operational",
            "TimeCreated": {"#attributes": {"SystemTime": "2026-04-29T14:31:00Z"}},
        },
        "EventData": {
            "Threat Name": "HackTool:Win32/Mimikatz",
            "Severity Name": "High",
            "Handle": 18446744073709551615,
        },
    }
}


def test_sysmon_records_flatten_to_sigma_fields() -> None:
    flat = flatten_record(SYSMON_RECORD)
    assert flat["EventID"] == 1
    assert flat["Channel"] == "Microsoft-Windows-Sysmon/Operational"
    assert flat["Provider_Name"] == "Microsoft-Windows-Sysmon"
    assert flat["Image"].endswith("systeminfo.exe")
    assert flat["ProcessId"] == 7312  # EventData wins over System.Execution's ProcessID
    assert flat["Computer"] == "WIN-DRILL-01"
    assert "xmlns" not in flat
    assert logsource_for(flat) == "process_creation"
    assert event_time(flat) == datetime(2026, 4, 29, 14, 30, 1, 131000, tzinfo=UTC)


def test_names_with_spaces_are_normalised_and_big_integers_kept_as_text() -> None:
    flat = flatten_record(DEFENDER_RECORD)
    assert flat["ThreatName"] == "HackTool:Win32/Mimikatz"
    assert flat["SeverityName"] == "High"
    assert flat["EventID"] == 1116  # {"#text": ...} unwrapped
    assert flat["Handle"] == "18446744073709551615"
    assert logsource_for(flat) == "windefend"  # the Sigma service Defender rules read


def test_a_file_that_is_not_evtx_is_one_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "Security.evtx"
    fake.write_bytes(b"MZ this is not an event log" * 10)
    with pytest.raises(LibraryError, match=r"Security\.evtx: not a readable EVTX file"):
        list(read_evtx(fake))


def test_jsonl_reads_the_recorded_drill_events() -> None:
    events = read_jsonl(FILES / "detection" / "t1082-uname.jsonl")
    assert len(events) == 6
    assert events[2].event["Image"] == "/usr/bin/uname"
    assert events[0].event["is_runner"] == "true"


def test_jsonl_reports_every_bad_line_with_its_position(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"Image": "/bin/ls"}\n{"Image": \n[1, 2]\n\n{"ok": true}\n')
    with pytest.raises(LibraryError) as caught:
        read_jsonl(path)
    messages = [str(p) for p in caught.value.problems]
    assert messages[0].startswith(f"{path}:2:")
    assert messages[1].startswith(f"{path}:3:1: each line must be a JSON object")
    assert len(messages) == 2


def test_logsource_key_chooses_the_table() -> None:
    (item,) = parse_lines(
        ['{"logsource": {"category": "file_event"}, "TargetFilename": "x"}'], "x.jsonl"
    )
    assert item.logsource == "file_event"
    assert "logsource" not in item.event


def test_nested_objects_flatten_to_dotted_names() -> None:
    flat = flatten({"process": {"parent": {"name": "bash"}}, "tags": ["a", "b"], "ok": True})
    assert flat == {"process.parent.name": "bash", "tags": '["a", "b"]', "ok": "true"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-04-29T14:30:01Z", datetime(2026, 4, 29, 14, 30, 1, tzinfo=UTC)),
        ("2026-04-29 14:30:01.500", datetime(2026, 4, 29, 14, 30, 1, 500000, tzinfo=UTC)),
        (1777473001, datetime(2026, 4, 29, 14, 30, 1, tzinfo=UTC)),
        (1777473001000, datetime(2026, 4, 29, 14, 30, 1, tzinfo=UTC)),
        ("1777473001000000000", datetime(2026, 4, 29, 14, 30, 1, tzinfo=UTC)),
        ("yesterday", None),
        (True, None),
    ],
)
def test_times_in_the_shapes_sensors_write(text: object, expected: datetime | None) -> None:
    assert parse_time(text) == expected


@given(st.text(max_size=200))
def test_jsonl_parser_never_fails_other_than_cleanly(text: str) -> None:
    problems = []
    try:
        events = parse_lines(text.splitlines(), "fuzz.jsonl")
    except LibraryError as exc:
        problems, events = exc.problems, []
    assert all(p.location.line >= 1 for p in problems)
    assert all(isinstance(e.event, dict) for e in events)


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
        max_leaves=10,
    )
)
def test_flattened_values_always_fit_sqlite(value: object) -> None:
    flat = flatten({"root": value})
    for key, stored in flat.items():
        assert " " not in key
        assert (
            stored is None
            or isinstance(stored, str | float)
            or (isinstance(stored, int) and -(2**63) <= stored < 2**63)
        )


@given(st.one_of(st.text(max_size=40), st.integers(), st.floats(), st.none()))
def test_parse_time_never_raises(value: object) -> None:
    result = parse_time(value)
    assert result is None or result.tzinfo is not None


@given(st.text(max_size=40))
def test_normalised_names_have_no_spaces(name: str) -> None:
    assert " " not in normalise_name(name)
    assert normalise_name(name)


def test_scalar_keeps_64_bit_integers_as_numbers() -> None:
    assert scalar(2**63 - 1) == 2**63 - 1
    assert scalar(2**63) == str(2**63)
    assert scalar(-(2**63) - 1) == str(-(2**63) - 1)
    assert json.loads(scalar({"a": 1})) == {"a": 1}
