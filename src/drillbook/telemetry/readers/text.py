"""Plain text logs: syslog lines and auditd records, for Sigma's Linux builtin rules.

SigmaHQ's Linux ``builtin`` rules read ``auditd`` records by their keys (``type:
EXECVE``, ``a0``, ``a1``, ``name``) and syslog lines by keywords (``keywords: ['rm
*bash_history']``), which the local engine searches in the full-text column ``_raw``.

* An auditd line (``type=EXECVE msg=audit(1714400000.123:77): argc=2 a0="ls" a1=2D6C``)
  becomes one event with every ``key=value`` pair; hex-encoded values (auditd writes an
  argument with spaces or quotes as hex) are decoded, quotes removed. It goes to
  ``auditd`` and ``linux``.
* A syslog line (RFC 3164 ``Apr 29 14:30:01 host prog[12]: text`` or RFC 5424 /
  ISO-time ``2026-04-29T14:30:01Z host prog[12]: text``) becomes ``host``, ``program``,
  ``pid``, ``message``; it goes to ``syslog``, ``linux`` and, for the daemons SigmaHQ
  has a service for (sshd, cron, vsftpd, clamav, guacamole, sudo), that service.

Any line keeps its text in ``_raw`` so keyword rules can find it; a line that fits
neither shape is still kept (text only), never an error.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from drillbook import clock
from drillbook.errors import LibraryError, Location
from drillbook.telemetry.readers.fields import Event
from drillbook.telemetry.readers.jsonl import SourcedEvent
from drillbook.telemetry.readers.pieces import Piece, open_piece

RAW = "_raw"
AUDIT_LINE = re.compile(
    r"^(?:node=\S+ )?type=(?P<type>[A-Z_0-9]+) msg=audit\("
    r"(?P<time>[\d.]+):(?P<serial>\d+)\):\s?(?P<rest>.*)$"
)
_PAIR = re.compile(r'(?P<key>[A-Za-z_][\w-]*)=(?P<value>"[^"]*"|\'[^\']*\'|\S*)')
_HEX = re.compile(r"^(?:[0-9A-F]{2})+$")
# keys whose hex-looking values are encoded text (auditd's untrusted strings)
_ENCODED = re.compile(r"^(a\d+|name|cmd|comm|exe|proctitle|path|cwd|data|key)$")
SYSLOG_3164 = re.compile(
    r"^(?P<time>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d) (?P<host>\S+) "
    r"(?P<program>[^\s:\[]+)(?:\[(?P<pid>\d+)\])?: ?(?P<message>.*)$"
)
SYSLOG_ISO = re.compile(
    r"^(?:<\d+>\d? ?)?(?P<time>\d{4}-\d\d-\d\dT\S+) (?P<host>\S+) "
    r"(?P<program>[^\s:\[]+)(?:\[(?P<pid>\d+)\])?:? ?(?P<message>.*)$"
)
DAEMON_SERVICES = {
    "sshd": "sshd",
    "cron": "cron",
    "crond": "cron",
    "anacron": "cron",
    "vsftpd": "vsftpd",
    "clamd": "clamav",
    "freshclam": "clamav",
    "clamav": "clamav",
    "guacd": "guacamole",
    "guacamole": "guacamole",
    "sudo": "sudo",
}
TEXT_FORMATS = ("syslog", "auditd")


def _decode(key: str, value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    if _ENCODED.match(key) and len(value) >= 2 and _HEX.match(value):
        raw = bytes.fromhex(value)
        # auditd separates a proctitle's arguments with NUL bytes
        return raw.replace(b"\x00", b" ").decode("utf-8", errors="replace").strip()
    return value


def parse_audit_line(line: str) -> Event | None:
    """One auditd record as a flat event, or None when the line is not one."""
    found = AUDIT_LINE.match(line.strip())
    if found is None:
        return None
    event: Event = {"type": found["type"]}
    for pair in _PAIR.finditer(found["rest"]):
        key = pair["key"]
        if key not in event:
            event[key] = _decode(key, pair["value"])
    seconds = float(found["time"])
    event["timestamp"] = (
        datetime.fromtimestamp(seconds, UTC).isoformat() if seconds < 1e11 else None
    )
    event["serial"] = found["serial"]
    event[RAW] = line.strip()
    return event


def _syslog_time(text: str, year: int) -> str | None:
    try:
        return (
            datetime.strptime(f"{year} {text}", "%Y %b %d %H:%M:%S").replace(tzinfo=UTC).isoformat()
        )
    except ValueError:
        return None


def parse_syslog_line(line: str, year: int) -> tuple[Event, str | None]:
    """One syslog line as an event, and the Sigma service of its program if it has one."""
    text = line.rstrip("\r\n")
    event: Event = {RAW: text}
    found = SYSLOG_3164.match(text) or SYSLOG_ISO.match(text)
    if found is None:
        event["message"] = text
        return event, None
    event["host"] = found["host"]
    event["program"] = found["program"]
    if found["pid"]:
        event["pid"] = found["pid"]
    event["message"] = found["message"]
    moment = found["time"]
    event["timestamp"] = moment if "T" in moment else _syslog_time(moment, year)
    return event, DAEMON_SERVICES.get(found["program"].lower())


def parse_text_lines(
    lines: Iterable[str], text_format: str | None = None, year: int | None = None
) -> Iterator[SourcedEvent]:
    """Events from log lines; ``text_format`` forces syslog or auditd, else per line."""
    year = year or clock.now().year
    for line in lines:
        if not line.strip():
            continue
        audit = None if text_format == "syslog" else parse_audit_line(line)
        if audit is not None:
            yield SourcedEvent(audit, "auditd", ("linux",))
            continue
        event, service = parse_syslog_line(line, year)
        also = ("linux",) if service is None else ("linux", service)
        yield SourcedEvent(event, "syslog", also)


def read_text(
    path: Path, text_format: str | None = None, piece: Piece | None = None
) -> Iterator[SourcedEvent]:
    """Every line of a text log (or of one piece of it, see :mod:`.pieces`);
    undecodable bytes are replaced, never fatal."""
    try:
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC).year
        with open_piece(piece or Piece(path), "utf-8", "replace") as handle:
            yield from parse_text_lines(handle, text_format, modified)
    except OSError as exc:
        raise LibraryError.single(Location.of(path), f"cannot read: {exc.strerror}") from None
