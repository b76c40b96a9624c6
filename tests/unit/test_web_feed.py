"""The live feed: one read per change per exercise, only deltas to clients, no queries
while idle, and changes made elsewhere (the CLI, another worker) reach every client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from drillbook.storage.engine import Store
from drillbook.web.feed import FeedHub, delta
from tests.unit.test_web import _running_exercise


def test_delta_sends_only_what_changed() -> None:
    old = {"phase": "Detection", "elapsed_seconds": 5, "timeline": [{"id": 1, "text": "a"}]}
    same = {"phase": "Detection", "elapsed_seconds": 9, "timeline": [{"id": 1, "text": "a"}]}
    assert delta(old, same) is None  # the clock alone: browsers tick it themselves
    new = {
        "phase": "Containment",
        "elapsed_seconds": 9,
        "timeline": [{"id": 1, "text": "a"}, {"id": 2, "text": "b"}],
    }
    message = delta(old, new)
    assert message is not None
    assert message["events"] == [{"id": 2, "text": "b"}]
    assert message["set"]["phase"] == "Containment"
    assert message["set"]["elapsed_seconds"] == 9


async def _next(queue: asyncio.Queue[object], timeout: float = 5.0) -> dict[str, Any]:
    message = await asyncio.wait_for(queue.get(), timeout)
    assert isinstance(message, str)
    assert message.startswith("data: ")
    decoded = json.loads(message.removeprefix("data: "))
    assert isinstance(decoded, dict)
    return decoded


def _log_decision(store: Store, exercise_id: int, text: str) -> None:
    from drillbook.domain.exercise import service
    from drillbook.domain.exercise.enums import EventKind

    with store.session() as session:
        exercise = service.get_exercise(session, exercise_id)
        service.record(session, exercise, EventKind.DECISION, text, author="cli")


def test_a_change_made_by_another_process_reaches_every_subscriber(store: Store) -> None:
    """On SQLite the file watcher sees it; on PostgreSQL, LISTEN/NOTIFY (the write comes
    through a second Store, as from another worker or the CLI)."""
    exercise_id = _running_exercise(store, None)
    elsewhere = Store(store.url, run_migrations=False)

    async def scenario() -> None:
        hub = FeedHub(store)
        try:
            room = await hub.subscribe(exercise_id, "room")
            facilitators = [await hub.subscribe(exercise_id, "facilitator") for _ in range(3)]
            first = await _next(room)
            assert first["type"] == "full"
            assert first["view"]["audience"] == "room"
            for queue in facilitators:
                assert (await _next(queue))["view"]["script"]
            assert hub.watcher is not None
            assert await asyncio.to_thread(hub.watcher.ready.wait, 10)
            await asyncio.sleep(0.5)  # the watcher's catch-up read, once, when it starts
            reads = hub.refreshes
            await asyncio.sleep(0.6)
            assert hub.refreshes == reads, "idle subscribers caused store reads"
            await asyncio.to_thread(_log_decision, elsewhere, exercise_id, "Isolate the host")
            for queue in [room, *facilitators]:
                message = await _next(queue)
                assert message["type"] == "delta"
                assert [e["text"] for e in message["events"]] == ["Isolate the host"]
            assert hub.refreshes - reads <= 2  # one read per change, shared by all four
            assert hub.subscribers() == 4
        finally:
            hub.close()

    try:
        asyncio.run(scenario())
    finally:
        elsewhere.close()


def test_close_ends_every_stream(store: Store) -> None:
    exercise_id = _running_exercise(store, None)

    async def scenario() -> None:
        hub = FeedHub(store)
        queue = await hub.subscribe(exercise_id, "participant")
        chunks: list[str] = []

        async def read() -> None:
            async for chunk in hub.stream(exercise_id, "participant", queue):
                chunks.append(chunk)

        reader = asyncio.create_task(read())
        await asyncio.sleep(0.1)
        hub.close()
        await asyncio.wait_for(reader, 2)
        assert json.loads(chunks[0].removeprefix("data: "))["type"] == "full"
        assert hub.subscribers() == 0

    asyncio.run(scenario())
