"""Exercise pages: the list, the live room (one page, cut by who is looking), its change
feed, and the report download.

The room page renders the read model once; ``room.js`` then follows the exercise's feed
(server-sent events: the whole view first, then only what changed) and ticks the clock in
the browser. ``?mode=room`` is the wall-screen layout: large type, no forms.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from drillbook.domain.account.access import (
    Audience,
    audience_of,
    can_facilitate,
    may_draft_comms,
    may_record,
    require_exercise,
)
from drillbook.domain.exercise.board import EXERCISE_PAGE, exercise_page
from drillbook.domain.exercise.enums import EventKind
from drillbook.domain.exercise.service import get_exercise
from drillbook.domain.exercise.views import room_view
from drillbook.errors import AccessDenied
from drillbook.flows.exercise_report import build_report
from drillbook.reports.render import render_markdown
from drillbook.web.app import context, templates
from drillbook.web.auth import csrf_token, signed_in
from drillbook.web.feed import encode
from drillbook.web.params import ExerciseId

router = APIRouter(include_in_schema=False)


@router.get("/exercises", response_class=HTMLResponse)
def exercise_list(
    request: Request, cursor: str | None = None, limit: int = EXERCISE_PAGE
) -> HTMLResponse:
    web = context(request)
    with web.store.session() as session:
        who = signed_in(request, session)
        page = exercise_page(session, who, limit=limit, cursor=cursor)
        scenarios = []
        if can_facilitate(who, None, who.team):
            scenarios = sorted(
                ((s.scenario.id, s.scenario.title) for s in web.library().scenarios.values()),
                key=lambda pair: pair[1],
            )
    return templates.TemplateResponse(
        request,
        "exercises.html",
        {
            "rows": page.rows,
            "total": page.total,
            "next_cursor": page.next_cursor,
            "limit": limit,
            "first_page": cursor is None,
            "who": who,
            "scenarios": scenarios,
            "csrf": csrf_token(request),
        },
    )


@router.get("/exercises/{exercise_id}", response_class=HTMLResponse)
def exercise_room(request: Request, exercise_id: ExerciseId, mode: str = "") -> HTMLResponse:
    with context(request).store.session() as session:
        who = signed_in(request, session)
        exercise = get_exercise(session, exercise_id)
        require_exercise(who, exercise)
        audience = Audience.ROOM if mode == "room" else audience_of(who, exercise)
        view = room_view(exercise, audience.value)
        abilities: dict[str, Any] = {
            "facilitate": audience == Audience.FACILITATOR,
            "decide": audience != Audience.ROOM and may_record(who, exercise, EventKind.DECISION),
            "observe": audience == Audience.OBSERVER
            or (
                audience == Audience.FACILITATOR
                and may_record(who, exercise, EventKind.OBSERVATION)
            ),
            "comms": audience != Audience.ROOM and may_draft_comms(who, exercise),
        }
    return templates.TemplateResponse(
        request,
        "room.html" if audience == Audience.ROOM else "exercise.html",
        {"x": view, "who": who, "can": abilities, "csrf": csrf_token(request), "mode": mode},
    )


@router.get("/exercises/{exercise_id}/stream")
async def exercise_stream(request: Request, exercise_id: ExerciseId, mode: str = "") -> Response:
    """The exercise's change feed for this viewer's audience (server-sent events)."""
    import asyncio

    web = context(request)

    def who_and_audience() -> tuple[str, bool]:
        with web.store.session() as session:
            who = signed_in(request, session)
            exercise = get_exercise(session, exercise_id)
            require_exercise(who, exercise)
            audience = Audience.ROOM if mode == "room" else audience_of(who, exercise)
            return audience.value, who.is_guest

    audience, guest = await asyncio.to_thread(who_and_audience)
    queue = await web.hub.subscribe(exercise_id, audience)  # type: ignore[arg-type]
    events = web.hub.stream(exercise_id, audience, queue)  # type: ignore[arg-type]
    return StreamingResponse(
        _until_ended(events) if guest else events,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


_ENDED = ("in_review", "reported", "followed_up")


async def _until_ended(events: AsyncIterator[str]) -> AsyncIterator[str]:
    """A guest's stream ends with the exercise, like the invitation that opened it."""
    async for chunk in events:
        yield chunk
        if chunk.startswith("data: "):
            message = json.loads(chunk.removeprefix("data: "))
            status = message.get("view", message.get("set", {})).get("status")
            if status in _ENDED:
                yield encode({"type": "ended"})  # the page stops reconnecting
                await events.aclose()  # type: ignore[attr-defined]
                return


@router.get("/exercises/{exercise_id}/report.md")
def exercise_report(request: Request, exercise_id: ExerciseId) -> Response:
    """The exercise report (Markdown) as it stands; downloading it changes nothing."""
    web = context(request)
    with web.store.session() as session:
        who = signed_in(request, session)
        exercise = get_exercise(session, exercise_id)
        require_exercise(who, exercise)
        if who.is_guest:
            raise AccessDenied("the report is for the team's accounts")
        text = render_markdown(build_report(session, exercise, web.library().program))
        label = exercise.label
    return Response(
        text,
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{label}-report.md"'},
    )
