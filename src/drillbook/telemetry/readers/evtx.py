"""Windows event logs (EVTX), flattened the way Sigma's Windows rules expect.

The ``evtx`` package yields each record as JSON shaped like the XML
(``Event.System.EventID``, ``Event.EventData.Image``, attributes under
``#attributes``). Sigma rules name the leaves directly (``EventID``, ``Image``,
``Channel``), so :func:`flatten_record` lifts ``System`` and ``EventData``/``UserData``
to the top level, turns ``{"#attributes": {...}, "#text": v}`` into ``v``, and
normalises names with spaces. :mod:`.windows` routes each event to the Sigma log
sources whose rules read it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from drillbook.errors import LibraryError, Location
from drillbook.telemetry.readers.fields import Event, normalise_name, scalar, table_name
from drillbook.telemetry.readers.jsonl import SourcedEvent
from drillbook.telemetry.readers.windows import (
    PRODUCT,
    known_channels_to,
    routes,
    windows_logsources,
)

# Records are decoded JSON, so their objects are dicts: ``isinstance(x, dict)`` is several
# times cheaper than a check against the ``Mapping`` ABC, and this runs per field.


def _value(node: Any) -> Any:
    """``{"#attributes": ..., "#text": v}`` -> ``v``; other values unchanged."""
    if isinstance(node, dict) and "#text" in node:
        text = node["#text"]
        return " ".join(str(t) for t in text) if isinstance(text, list) else text
    return node


def _lift(node: Mapping[str, Any], out: Event, parent: str = "") -> None:
    for key, value in node.items():
        kind = type(value)
        if kind is dict or (kind is not str and isinstance(value, dict)):
            if key == "#attributes":
                _attributes(value, out, parent)
            elif key == "#text":
                continue
            elif "#text" in value:
                name = normalise_name(key)
                out[name] = scalar(_value(value))
                attributes = value.get("#attributes")
                if isinstance(attributes, dict):
                    _attributes(attributes, out, name)
            else:
                _lift(value, out, normalise_name(key))
        elif key != "#text":
            out[normalise_name(key)] = value if kind is str else scalar(value)


# (element, attribute) -> the attribute's flat names (``TimeCreated_SystemTime`` and
# ``SystemTime``), or () for a namespace declaration: every record repeats the same few.
_ATTRIBUTE_NAMES: dict[tuple[str, str], tuple[str, ...]] = {}
_ATTRIBUTE_NAMES_HELD = 4096


def _attribute_names(parent: str, attr: str) -> tuple[str, ...]:
    names: tuple[str, ...] = ()
    if not str(attr).startswith("xmlns"):
        names = (normalise_name(f"{parent}_{attr}" if parent else attr), normalise_name(attr))
    if len(_ATTRIBUTE_NAMES) < _ATTRIBUTE_NAMES_HELD:
        _ATTRIBUTE_NAMES[parent, attr] = names
    return names


def _attributes(attributes: Mapping[str, Any], out: Event, parent: str) -> None:
    for attr, attr_value in attributes.items():
        names = _ATTRIBUTE_NAMES.get((parent, attr))
        if names is None:
            names = _attribute_names(parent, attr)
        if names:
            value = attr_value if type(attr_value) is str else scalar(attr_value)
            out[names[0]] = value
            # SystemTime / ProcessID and friends are also reachable by their own name
            out.setdefault(names[1], value)


def flatten_record(record: Mapping[str, Any]) -> Event:
    """One EVTX record (as the ``evtx`` package's JSON) to a flat Sigma event."""
    event = record.get("Event", record)
    if not isinstance(event, dict):
        return {}
    out: Event = {}
    system = event.get("System")
    if isinstance(system, dict):
        _lift(system, out)
        if "Provider_Name" in out:
            out.setdefault("Provider", out["Provider_Name"])
    for section in ("EventData", "UserData"):
        data = event.get(section)
        if isinstance(data, dict):
            # UserData wraps its fields in one element named after the event
            if section == "UserData" and len(data) == 1:
                (inner,) = data.values()
                data = inner if isinstance(inner, dict) else data
            payload: Event = {}
            _lift(data, payload)
            out.update(payload)  # event fields win over System ones of the same name
    if "TimeCreated_SystemTime" in out:
        out.setdefault("TimeCreated", out["TimeCreated_SystemTime"])
    return out


def logsource_for(event: Mapping[str, Any]) -> str:
    """The first Sigma log source of a flat Windows event (see :mod:`.windows`)."""
    return windows_logsources(event)[0]


def sourced(flat: Event) -> SourcedEvent:
    """A flat Windows event with every log source whose rules read it."""
    first, *rest = windows_logsources(flat)
    return SourcedEvent(flat, first, tuple(rest))


EVTX_MAGIC = b"ElfFile\x00"


def _wanted(data: Mapping[str, Any], wanted: Collection[str]) -> bool:
    """Whether a record (still nested) goes to one of the ``wanted`` tables: told from
    its channel and EventID alone, so records no loaded rule reads are never flattened."""
    event = data.get("Event", data)
    system = event.get("System") if isinstance(event, dict) else None
    if not isinstance(system, dict):
        return True
    return _system_wanted(system, wanted)


def _system_wanted(system: Mapping[str, Any], wanted: Collection[str]) -> bool:
    try:
        number = int(_value(system.get("EventID")))
    except (TypeError, ValueError):
        number = None
    found = routes(str(_value(system.get("Channel")) or ""), number)
    return any(table_name(name) in wanted for name in found)


# Where ``Event.System``'s value starts when System is Event's first element (after its
# attributes), as the evtx package writes every record of a real log.
_SYSTEM_FIRST = re.compile(
    r'\s*\{\s*"Event"\s*:\s*\{\s*(?:"#attributes"\s*:\s*\{[^{}]*\}\s*,\s*)?"System"\s*:\s*'
)
_SYSTEM_KEY = '"System":'
_decoder = json.JSONDecoder()


def _wanted_from_text(text: str, wanted: Collection[str]) -> bool | None:
    """:func:`_wanted` told from the record's JSON text, decoding only its System
    element, or None when the text is not laid out so that this is exact (then the
    caller decodes it all). Most records of a log go to tables no loaded rule reads;
    this spares decoding their event data. Exact: ``"System":`` can only occur in JSON
    text as a key (inside a string its quote would be escaped), so one occurrence, at
    Event's first element, is the System that decoding the whole record would find."""
    found = _SYSTEM_FIRST.match(text)
    if found is None or text.count(_SYSTEM_KEY) != 1:
        return None
    try:
        system, _ = _decoder.raw_decode(text, found.end())
    except ValueError:
        return None
    if not isinstance(system, dict):
        return None
    return _system_wanted(system, wanted)


# A JSON string's characters as they are written: plain, or escaped.
_STRING_CHAR = r'(?:[^"\\]|\\.)'


@lru_cache(maxsize=64)
def _screen(wanted: frozenset[str]) -> re.Pattern[str] | None:
    """A pattern that the lower-cased JSON text of every record routed to a ``wanted``
    table holds, or None when there is none to tell. Searching a record's text for it
    is several times cheaper than decoding its System element, and most records of a
    log go to tables no loaded rule reads. The pattern looks for a ``Channel`` key that
    is not a string (then the record is decoded), a string that is one of the known
    channels whose events go there (:func:`.windows.known_channels_to`), or, for any
    other channel, whose events go to the table named after it, a string holding the
    letters and digits of a wanted table's name in order (a channel's letters and
    digits are written as they are). It relies on the evtx package writing compact
    JSON with serde_json, which escapes only quotes, backslashes and control
    characters: the caller uses it only on text that starts as compact JSON does."""
    if any(not name.isascii() for name in wanted):
        return None
    choices = [re.escape(channel) for channel in sorted(known_channels_to(wanted))]
    for name in sorted(wanted):
        parts = [re.escape(part) for part in name.split("_") if part]
        if not parts:
            return None  # a table no letter names ("events"): any channel may go there
        choices.append(f"{_STRING_CHAR}*?" + f"{_STRING_CHAR}*?".join(parts))
    return re.compile('"channel":(?:[^"]|"(?:' + "|".join(choices) + "))")


_COMPACT_START = '{"Event":{'


def read_evtx(path: Path, wanted: Collection[str] | None = None) -> Iterator[SourcedEvent]:
    """Every record in an EVTX file, flattened and routed, one at a time (with ``wanted``,
    only those routed to one of these tables); a file that is not EVTX is one clear
    error."""
    from evtx import PyEvtxParser

    if wanted is not None and table_name(PRODUCT) in wanted:
        wanted = None  # every Windows record goes to the product's table (see .windows)
    screen = None if wanted is None else _screen(frozenset(wanted))
    try:
        with path.open("rb") as handle:
            if handle.read(len(EVTX_MAGIC)) != EVTX_MAGIC:
                raise ValueError("it does not start with an EVTX file header")
        # one thread: the caller spreads files over processes, and threads here only
        # compete with them (a file parses in milliseconds)
        parser = PyEvtxParser(str(path), number_of_threads=1)
        for record in parser.records_json():
            raw: Any = record
            text = raw["data"]
            if wanted is not None:
                if (
                    screen is not None
                    and text.startswith(_COMPACT_START)
                    and screen.search(text.lower()) is None
                ):
                    continue  # no channel whose events a wanted table takes
                verdict = _wanted_from_text(text, wanted)
                if verdict is False:
                    continue
                data = json.loads(text)
                if verdict is None and not _wanted(data, wanted):
                    continue
            else:
                data = json.loads(text)
            flat = flatten_record(data)
            flat.setdefault("EventRecordID", raw.get("event_record_id"))
            yield sourced(flat)
    except (OSError, RuntimeError, ValueError) as exc:
        raise LibraryError.single(
            Location.of(path), f"not a readable EVTX file: {exc}", "evtx"
        ) from None
