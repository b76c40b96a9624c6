"""Bytes a technique sends over the network, read live from the sensor's trace.

Where the profile allows network but sets ``max_data_volume_simulated``, the sensor also
traces the send and write calls with their file descriptors decoded (``strace -yy``:
``sendto(4<TCP:[10.0.0.5:41234->10.0.0.9:443]>, ..., 100, ...) = 100``). The meter adds
up what succeeded on TCP, UDP and SCTP sockets, reading the trace as it grows, so the
runner can stop the technique the moment it passes the limit.
"""

from __future__ import annotations

import re
from pathlib import Path

SEND_SYSCALLS = ("sendto", "sendmsg", "write", "writev", "pwrite64", "pwritev")
_CALL = re.compile(
    r"^(\d+)\s+\S+\s+(" + "|".join(SEND_SYSCALLS) + r")\(\d+<(TCP|UDP|SCTP|UDPLITE)(?:v6)?:"
)
_RESULT = re.compile(r"\)\s+=\s+(\d+)\s*$")
_RESUMED = re.compile(r"^(\d+)\s+\S+\s+<\.\.\. (\w+) resumed>.*\)\s+=\s+(\d+)\s*$")


class NetworkMeter:
    """Counts the network bytes in a growing strace output file."""

    def __init__(self, trace: Path, limit: int | None = None) -> None:
        self.trace = trace
        self.limit = limit
        self.total = 0
        self._offset = 0
        self._partial = ""
        self._pending: set[tuple[str, str]] = set()

    def feed(self, lines: list[str]) -> None:
        for line in lines:
            call = _CALL.match(line)
            if call:
                if line.endswith("<unfinished ...>"):
                    self._pending.add((call.group(1), call.group(2)))
                    continue
                result = _RESULT.search(line)
                if result:
                    self.total += int(result.group(1))
                continue
            resumed = _RESUMED.match(line)
            if resumed and (resumed.group(1), resumed.group(2)) in self._pending:
                self._pending.discard((resumed.group(1), resumed.group(2)))
                self.total += int(resumed.group(3))

    def read(self) -> int:
        """Read what the trace gained since the last call; the total so far."""
        try:
            with self.trace.open("r", encoding="utf-8", errors="replace") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
                self._offset = handle.tell()
        except OSError:
            return self.total
        text = self._partial + chunk
        lines = text.split("\n")
        self._partial = lines.pop()
        self.feed(lines)
        return self.total

    def over_limit(self) -> str | None:
        """Why the technique must stop (it sent more than the limit), or None."""
        self.read()
        if self.limit is not None and self.total > self.limit:
            return (
                f"stopped: sent {self.total} bytes over the network, more than "
                f"max_data_volume_simulated ({self.limit} bytes)"
            )
        return None
