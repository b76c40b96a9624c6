"""Say it is done only once it is stored.

A command that prints "created EX-3" inside its unit of work and is then killed before the
commit has told the user something false. Rather than asking every command to print after
its ``with store.session()`` block, a store opened for the command line holds back what is
written to standard output during a unit of work and lets it through only after the commit
succeeded; when the unit of work fails, the held text is dropped (nothing was stored, so
there is nothing to acknowledge). Errors go to standard error and are never held.

Only the main thread's output is held: the web server's worker threads write logs, never
acknowledgements, and must not have their output swapped under them.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


class HeldOutput(io.StringIO):
    """Standard output as seen inside a unit of work: kept until :meth:`release`.

    It answers ``isatty`` and ``encoding`` like the stream it stands in for, so Rich
    formats the held text exactly as it would have printed it."""

    def __init__(self, target: TextIO) -> None:
        super().__init__()
        self.target = target

    def isatty(self) -> bool:
        return bool(getattr(self.target, "isatty", lambda: False)())

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.target, "encoding", None) or "utf-8")

    def release(self) -> None:
        """Pass the held text on (after the commit)."""
        text = self.getvalue()
        if text:
            self.target.write(text)
            self.target.flush()
        self.seek(0)
        self.truncate()


@contextmanager
def held_until_commit(enabled: bool) -> Iterator[HeldOutput | None]:
    """Replace ``sys.stdout`` by a :class:`HeldOutput` for the block (main thread only).

    The caller releases it after committing; nested units of work release into the outer
    one's buffer, so nothing shows before the outermost commit."""
    if not enabled or threading.current_thread() is not threading.main_thread():
        yield None
        return
    outer = sys.stdout
    held = HeldOutput(outer)
    sys.stdout = held
    try:
        yield held
    finally:
        if sys.stdout is held:
            sys.stdout = outer
