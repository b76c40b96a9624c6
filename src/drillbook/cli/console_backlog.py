"""Lines typed while the store is away: kept in memory, written when it is back.

An observer types during a live exercise whatever happens to the database: a store locked
by a long command or a PostgreSQL server restarting must not cost them what they typed,
nor end the console. A line that cannot be stored for such a passing reason is kept, with
the time it was typed, and written (in order, under that time) before the next line once
the store answers again. Lines still kept when the console is left are printed on
standard error, so they are never lost silently.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from drillbook import clock
from drillbook.errors import DrillbookError, StoreError

Handler = Callable[[str], tuple[list[str], bool]]
CONSOLE_WAIT_S = 2.0  # how long one line waits for a locked store before it is kept


@dataclass(frozen=True)
class KeptLine:
    text: str
    typed_at: datetime


class _TypedAt:
    """A clock stopped at when a kept line was typed: its event carries that time."""

    def __init__(self, moment: datetime, base: clock.Clock) -> None:
        self.moment = moment
        self.base = base

    def now(self) -> datetime:
        return self.moment

    def monotonic(self) -> float:
        return self.base.monotonic()


@contextmanager
def _typed_at(moment: datetime) -> Iterator[None]:
    with clock.use_clock(_TypedAt(moment, clock.get_clock())):
        yield


def unavailable(exc: DrillbookError) -> bool:
    return isinstance(exc, StoreError) and exc.retry_later


class Backlog:
    """The lines waiting for the store, and the rule for writing them."""

    def __init__(self) -> None:
        self.lines: deque[KeptLine] = deque()

    def __len__(self) -> int:
        return len(self.lines)

    def _note(self, reason: str) -> str:
        count = len(self.lines)
        return (
            f"waiting for the store ({reason}); {count} line{'s' if count != 1 else ''} "
            "kept here, written as soon as it is back"
        )

    def handle(self, line: str, handler: Handler) -> tuple[list[str], bool]:
        """Write what is kept, then ``line``; keep ``line`` too if the store is away."""
        shown, reason = self.flush(handler)
        if reason is not None:
            if line.strip():
                self.lines.append(KeptLine(line, clock.now()))
            return [*shown, self._note(reason)], False
        try:
            messages, leave = handler(line)
        except DrillbookError as exc:
            if not unavailable(exc):
                return [*shown, f"error: {exc}"], False
            if line.strip():
                self.lines.append(KeptLine(line, clock.now()))
            return [*shown, self._note(str(exc))], False
        return [*shown, *messages], leave

    def flush(self, handler: Handler) -> tuple[list[str], str | None]:
        """Write the kept lines in order: (what to show, why it stopped or None)."""
        shown: list[str] = []
        while self.lines:
            kept = self.lines[0]
            try:
                with _typed_at(kept.typed_at):
                    messages, _ = handler(kept.text)
            except DrillbookError as exc:
                if unavailable(exc):
                    return shown, str(exc)
                messages = [f"error: {exc}"]
            self.lines.popleft()
            shown.extend(messages)
        return shown, None

    def unsaved(self) -> list[str]:
        """Say what is lost if the console ends now (printed on standard error)."""
        return [f"not stored (the store stayed away): {k.text.strip()}" for k in self.lines]
