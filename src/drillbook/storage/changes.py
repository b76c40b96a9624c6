"""Change signals from the store, for the web app's live feed.

Two watchers, one per database, each calling ``on_change(exercise_id | None)`` from its
own thread (``None``: something changed, look at every exercise you follow):

- :class:`SqliteFileWatcher` watches the database file and its write-ahead log with
  ``stat()``: any writer (this process, the CLI, the console) changes their size or
  modification time. Watching costs no query; a query runs only after a change.
- :class:`PostgresListener` holds one connection that ``LISTEN``\\ s on
  ``drillbook_exercise``; a trigger (migration ``0014_web_accounts``) sends
  ``NOTIFY drillbook_exercise, '<schema>:<exercise id>'`` for every timeline insert or
  update, so a change made by any worker process or by the CLI reaches every worker
  (notifications from another schema of the same database are ignored).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from drillbook.storage.engine import Store

CHANNEL = "drillbook_exercise"
OnChange = Callable[[int | None], None]


class ChangeWatcher:
    """Base: a daemon thread that stops when :meth:`stop` is called."""

    def __init__(self, on_change: OnChange) -> None:
        self.on_change = on_change
        self._stop = threading.Event()
        self.ready = threading.Event()  # set once it watches (tests wait for it)
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError


class SqliteFileWatcher(ChangeWatcher):
    POLL_SECONDS = 0.05

    def __init__(self, path: Path, on_change: OnChange) -> None:
        super().__init__(on_change)
        self.files = [path, path.with_name(path.name + "-wal")]

    def _signature(self) -> tuple[tuple[int, int], ...]:
        marks = []
        for file in self.files:
            try:
                info = os.stat(file)
            except OSError:
                marks.append((0, 0))
            else:
                marks.append((info.st_mtime_ns, info.st_size))
        return tuple(marks)

    def _run(self) -> None:
        last = self._signature()
        self.ready.set()
        while not self._stop.wait(self.POLL_SECONDS):
            current = self._signature()
            if current != last:
                last = current
                self.on_change(None)


class PostgresListener(ChangeWatcher):
    def __init__(self, url: str, on_change: OnChange) -> None:
        super().__init__(on_change)
        self.url = url.replace("postgresql+psycopg://", "postgresql://", 1)

    def _run(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as connection:
                    row = connection.execute("SELECT current_schema()").fetchone()
                    schema = str(row[0]) if row else ""
                    connection.execute(f"LISTEN {CHANNEL}")
                    self.on_change(None)  # catch up on anything written while connecting
                    self.ready.set()
                    while not self._stop.is_set():
                        for note in connection.notifies(timeout=0.5, stop_after=1):
                            where, _, exercise = note.payload.rpartition(":")
                            if where == schema:
                                self.on_change(int(exercise) if exercise.isdigit() else None)
            except psycopg.OperationalError:
                # the database went away: try again shortly; clients keep their state
                self._stop.wait(1.0)


def watcher_for(store: Store, on_change: OnChange) -> ChangeWatcher | None:
    """The right watcher for ``store``'s database (None for an in-memory SQLite)."""
    url = store.engine.url
    if url.get_backend_name() == "postgresql":
        return PostgresListener(store.url, on_change)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return SqliteFileWatcher(Path(url.database), on_change)
    return None
