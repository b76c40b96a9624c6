"""One change feed per exercise, fanned out to every browser following it.

A browser subscribes to an exercise for one audience (facilitator, observer,
participant, room). The hub keeps, per exercise, the last view of each audience that
someone follows. When the store changes (a write made here, or a signal from
:mod:`drillbook.storage.changes`), the hub reads the exercise once, builds each followed
audience's view once, and sends every subscriber of that audience only what changed: the
header fields that moved and the timeline items that are new or changed. A new
subscriber gets the cached view without a query. Idle subscribers cost nothing: no query
runs unless the store changed. Clocks tick in the browser from ``elapsed_seconds``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from drillbook.domain.exercise.service import get_exercise
from drillbook.domain.exercise.views import AudienceName, room_view
from drillbook.errors import NotFoundError
from drillbook.storage.changes import ChangeWatcher, watcher_for
from drillbook.storage.engine import Store

KEEPALIVE_SECONDS = 15.0
_CLOSE = object()
_CLOCK_FIELDS = ("elapsed_seconds", "remaining_seconds", "next_inject_due_in_seconds")


@dataclass
class _Audience:
    view: dict[str, Any]
    computed: float
    queues: set[asyncio.Queue[object]] = field(default_factory=set)


@dataclass
class _Exercise:
    audiences: dict[str, _Audience] = field(default_factory=dict)
    refreshing: asyncio.Task[None] | None = None
    dirty: bool = False


def delta(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any] | None:
    """What a browser holding ``old`` needs to show ``new``; None when nothing changed
    (the clock fields alone do not count: the browser ticks them itself)."""
    changed = {
        k: v
        for k, v in new.items()
        if k != "timeline" and old.get(k) != v and k not in _CLOCK_FIELDS
    }
    before = {item["id"]: item for item in old.get("timeline", [])}
    items = [item for item in new.get("timeline", []) if before.get(item["id"]) != item]
    if not changed and not items:
        return None
    clock = {k: new.get(k) for k in _CLOCK_FIELDS}
    return {"type": "delta", "set": {**changed, **clock}, "events": items}


def encode(message: dict[str, Any]) -> str:
    """One server-sent event."""
    return f"data: {json.dumps(message, separators=(',', ':'))}\n\n"


def _advanced(view: dict[str, Any], seconds: int) -> dict[str, Any]:
    """A cached view as it stands ``seconds`` later (the clock runs while it waits)."""
    if not view.get("running") or seconds <= 0:
        return view
    moved = dict(view)
    moved["elapsed_seconds"] = view["elapsed_seconds"] + seconds
    for key in ("remaining_seconds", "next_inject_due_in_seconds"):
        if view.get(key) is not None:
            moved[key] = view[key] - seconds
    return moved


class FeedHub:
    """The live feeds of one web process (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.exercises: dict[int, _Exercise] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.watcher: ChangeWatcher | None = None
        self.closed = False
        self.refreshes = 0  # how many times the store was read (benchmarks, tests)

    # -- views -------------------------------------------------------------------------
    def _read(self, exercise_id: int, audiences: list[str]) -> dict[str, dict[str, Any]]:
        self.refreshes += 1
        with self.store.session() as session:
            exercise = get_exercise(session, exercise_id)
            return {a: room_view(exercise, a).model_dump(mode="json") for a in audiences}  # type: ignore[arg-type]

    def _ensure_watching(self) -> None:
        if self.loop is None:
            self.loop = asyncio.get_running_loop()
        if self.watcher is None and not self.closed:
            self.watcher = watcher_for(self.store, self.signal)
            if self.watcher is not None:
                self.watcher.start()

    def signal(self, exercise_id: int | None) -> None:
        """:meth:`changed`, callable from any thread (route handlers, watchers)."""
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.changed, exercise_id)

    # -- subscriptions -----------------------------------------------------------------
    async def subscribe(self, exercise_id: int, audience: AudienceName) -> asyncio.Queue[object]:
        """A queue that receives this audience's messages, starting with the whole view."""
        self._ensure_watching()
        feed = self.exercises.setdefault(exercise_id, _Exercise())
        entry = feed.audiences.get(audience)
        if entry is None:
            views = await asyncio.to_thread(self._read, exercise_id, [audience])
            entry = feed.audiences.setdefault(
                audience, _Audience(view=views[audience], computed=time.monotonic())
            )
        queue: asyncio.Queue[object] = asyncio.Queue()
        view = _advanced(entry.view, int(time.monotonic() - entry.computed))
        queue.put_nowait(encode({"type": "full", "view": view}))
        entry.queues.add(queue)
        return queue

    def unsubscribe(self, exercise_id: int, audience: str, queue: asyncio.Queue[object]) -> None:
        feed = self.exercises.get(exercise_id)
        if feed is None:
            return
        entry = feed.audiences.get(audience)
        if entry is not None:
            entry.queues.discard(queue)
            if not entry.queues:
                del feed.audiences[audience]
        if not feed.audiences and feed.refreshing is None:
            del self.exercises[exercise_id]

    def subscribers(self) -> int:
        return sum(len(a.queues) for f in self.exercises.values() for a in f.audiences.values())

    # -- changes -----------------------------------------------------------------------
    def changed(self, exercise_id: int | None) -> None:
        """The store changed for ``exercise_id`` (None: maybe any). Must run on the loop."""
        targets = list(self.exercises) if exercise_id is None else [exercise_id]
        for target in targets:
            feed = self.exercises.get(target)
            if feed is None or not feed.audiences:
                continue
            if feed.refreshing is not None:
                feed.dirty = True  # the running refresh reads once more when it ends
                continue
            feed.refreshing = asyncio.get_running_loop().create_task(self._refresh(target, feed))

    async def _refresh(self, exercise_id: int, feed: _Exercise) -> None:
        try:
            while True:
                feed.dirty = False
                audiences = list(feed.audiences)
                if not audiences:
                    return
                try:
                    views = await asyncio.to_thread(self._read, exercise_id, audiences)
                except NotFoundError:
                    return
                now = time.monotonic()
                for name, view in views.items():
                    entry = feed.audiences.get(name)
                    if entry is None:
                        continue
                    message = delta(entry.view, view)
                    entry.view, entry.computed = view, now
                    if message is not None:
                        event = encode(message)  # once per audience, not per browser
                        for queue in entry.queues:
                            queue.put_nowait(event)
                if not feed.dirty:
                    return
        finally:
            feed.refreshing = None
            if not feed.audiences:
                self.exercises.pop(exercise_id, None)

    async def stream(
        self, exercise_id: int, audience: AudienceName, queue: asyncio.Queue[object]
    ) -> AsyncIterator[str]:
        """Server-sent events for one subscriber until it leaves or the server stops."""
        try:
            while True:
                try:
                    message = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                if not isinstance(message, str):  # _CLOSE: the server is stopping
                    return
                yield message
        finally:
            self.unsubscribe(exercise_id, audience, queue)

    def close(self) -> None:
        """End every stream (Ctrl-C must not wait for browsers) and stop watching."""
        self.closed = True
        for feed in self.exercises.values():
            for entry in feed.audiences.values():
                for queue in entry.queues:
                    queue.put_nowait(_CLOSE)
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    def close_threadsafe(self) -> None:
        loop = self.loop
        if loop is not None and not loop.is_closed() and loop.is_running():
            loop.call_soon_threadsafe(self.close)
        else:
            self.close()
