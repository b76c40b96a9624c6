"""A file, or a range of its lines, to read as events: how one large log is shared out.

A line-oriented log (JSON lines, syslog, auditd) can be read in pieces that start at a
line: each piece is the bytes from one cut to the next, every cut just after a ``\\n``.
A ``\\n`` ends a line in every newline convention (``\\r\\n`` included) and is never
part of a multi-byte UTF-8 character, so the lines of the pieces, read one after the
other, are exactly the file's lines.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TextIO


@dataclass(frozen=True)
class Piece:
    """Bytes ``start`` to ``end`` of ``path`` (``end`` None: to the end of the file)."""

    path: Path
    start: int = 0
    end: int | None = None

    @property
    def whole(self) -> bool:
        return self.start == 0 and self.end is None

    def size(self) -> int:
        end = self.path.stat().st_size if self.end is None else self.end
        return max(0, end - self.start)


class _Bounded(io.RawIOBase):
    """At most ``limit`` bytes of an open file, from where it stands."""

    def __init__(self, raw: io.BufferedReader, limit: int) -> None:
        super().__init__()
        self._raw = raw
        self._left = limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        if self._left <= 0:
            return 0
        view = memoryview(buffer)[: self._left]
        count = self._raw.readinto(view) or 0
        self._left -= count
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_piece(piece: Piece, encoding: str, errors: str | None = None) -> TextIO:
    """The piece as text, with the universal newlines a whole file is read with."""
    raw = piece.path.open("rb")
    try:
        raw.seek(piece.start)
        stream: IO[bytes] = raw
        if piece.end is not None:
            stream = io.BufferedReader(_Bounded(raw, piece.end - piece.start))
        return io.TextIOWrapper(stream, encoding=encoding, errors=errors)
    except BaseException:
        raw.close()
        raise


def line_pieces(path: Path, parts: int) -> list[Piece]:
    """``path`` cut into up to ``parts`` pieces of about equal size, each starting at a
    line (a file with fewer lines, or none ending in ``\\n``, gives fewer pieces)."""
    size = path.stat().st_size
    cuts = [0]
    with path.open("rb") as handle:
        for number in range(1, parts):
            handle.seek(max(size * number // parts, cuts[-1]))
            handle.readline()  # to the start of the next line
            cut = handle.tell()
            if cut >= size:
                break
            if cut > cuts[-1]:
                cuts.append(cut)
    if len(cuts) == 1:
        return [Piece(path)]
    ends: list[int | None] = [*cuts[1:], None]
    return [Piece(path, start, end) for start, end in zip(cuts, ends, strict=True)]
