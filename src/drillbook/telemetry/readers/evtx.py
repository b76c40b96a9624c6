"""Windows event logs (EVTX), flattened the way Sigma's Windows rules expect.

The ``evtx`` package yields each record as JSON shaped like the XML
(``Event.System.EventID``, ``Event.EventData.Image``, attributes under
``#attributes``). Sigma rules name the leaves directly (``EventID``, ``Image``,
``Channel``), so :func:`flatten_record` lifts ``System`` and ``EventData``/``UserData``
to the top level, turns ``{"#attributes": {...}, "#text": v}`` into ``v``, and
normalises names with spaces. Sysmon event ids map onto Sigma log-source categories
(1 -> process_creation, 3 -> network_connection, ...); other channels get a table
named after the channel.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drillbook.errors import LibraryError, Location
from drillbook.telemetry.readers.fields import Event, normalise_name, scalar
from drillbook.telemetry.readers.jsonl import SourcedEvent

SYSMON_CHANNEL = "microsoft-windows-sysmon/operational"
SYSMON_CATEGORIES = {
    1: "process_creation",
    2: "file_change",
    3: "network_connection",
    5: "process_termination",
    6: "driver_load",
    7: "image_load",
    8: "create_remote_thread",
    9: "raw_access_thread",
    10: "process_access",
    11: "file_event",
    12: "registry_event",
    13: "registry_event",
    14: "registry_event",
    15: "create_stream_hash",
    17: "pipe_created",
    18: "pipe_created",
    19: "wmi_event",
    20: "wmi_event",
    21: "wmi_event",
    22: "dns_query",
    23: "file_delete",
    25: "process_tampering",
    26: "file_delete",
}


def _value(node: Any) -> Any:
    """``{"#attributes": ..., "#text": v}`` -> ``v``; other values unchanged."""
    if isinstance(node, Mapping) and "#text" in node:
        text = node["#text"]
        return " ".join(str(t) for t in text) if isinstance(text, list) else text
    return node


def _lift(node: Mapping[str, Any], out: Event, parent: str = "") -> None:
    for key, value in node.items():
        if key == "#attributes" and isinstance(value, Mapping):
            for attr, attr_value in value.items():
                if str(attr).startswith("xmlns"):
                    continue
                name = normalise_name(f"{parent}_{attr}" if parent else attr)
                out[name] = scalar(attr_value)
                # SystemTime / ProcessID and friends are also reachable by their own name
                out.setdefault(normalise_name(attr), scalar(attr_value))
            continue
        if key == "#text":
            continue
        if isinstance(value, Mapping) and "#text" not in value:
            _lift(value, out, normalise_name(key))
        elif isinstance(value, Mapping):
            out[normalise_name(key)] = scalar(_value(value))
            attributes = value.get("#attributes")
            if isinstance(attributes, Mapping):
                _lift({"#attributes": attributes}, out, normalise_name(key))
        else:
            out[normalise_name(key)] = scalar(value)


def flatten_record(record: Mapping[str, Any]) -> Event:
    """One EVTX record (as the ``evtx`` package's JSON) to a flat Sigma event."""
    event = record.get("Event", record)
    if not isinstance(event, Mapping):
        return {}
    out: Event = {}
    system = event.get("System")
    if isinstance(system, Mapping):
        _lift(system, out)
        if "Provider_Name" in out:
            out.setdefault("Provider", out["Provider_Name"])
    for section in ("EventData", "UserData"):
        data = event.get(section)
        if isinstance(data, Mapping):
            # UserData wraps its fields in one element named after the event
            if section == "UserData" and len(data) == 1:
                (inner,) = data.values()
                data = inner if isinstance(inner, Mapping) else data
            payload: Event = {}
            _lift(data, payload)
            out.update(payload)  # event fields win over System ones of the same name
    if "TimeCreated_SystemTime" in out:
        out.setdefault("TimeCreated", out["TimeCreated_SystemTime"])
    return out


def logsource_for(event: Mapping[str, Any]) -> str:
    channel = str(event.get("Channel") or "").lower()
    try:
        event_id = int(event.get("EventID") or 0)
    except (TypeError, ValueError):
        event_id = 0
    if channel == SYSMON_CHANNEL and event_id in SYSMON_CATEGORIES:
        return SYSMON_CATEGORIES[event_id]
    if channel == "security" and event_id == 4688:
        return "process_creation"
    if not channel:
        return "windows"
    return "".join(c if c.isalnum() else "_" for c in channel)


def read_evtx(path: Path) -> list[SourcedEvent]:
    """Every record in an EVTX file, flattened; a file that is not EVTX is one clear error."""
    from evtx import PyEvtxParser

    try:
        parser = PyEvtxParser(str(path))
        events = []
        for record in parser.records_json():
            raw: Any = record
            data = json.loads(raw["data"])
            flat = flatten_record(data)
            flat.setdefault("EventRecordID", raw.get("event_record_id"))
            events.append(SourcedEvent(flat, logsource_for(flat)))
        return events
    except (OSError, RuntimeError, ValueError) as exc:
        raise LibraryError.single(
            Location.of(path), f"not a readable EVTX file: {exc}", "evtx"
        ) from None
