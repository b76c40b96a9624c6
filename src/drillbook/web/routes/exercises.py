"""Exercise pages: the list, and the live view a room follows on a big screen.

The live view is rendered once, then kept current by server-sent events: the server
re-reads the exercise from the store every second and sends its state when it changed,
so any terminal (the observer's `drillbook exercise run`, a facilitator's `exercise
inject`) updates every open browser. The clock ticks in the browser between messages.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, StreamingResponse

from drillbook.domain.exercise.models import Exercise
from drillbook.domain.exercise.service import (
    clock_of,
    current_roles,
    get_exercise,
    list_exercises,
    scenario_of,
)
from drillbook.domain.exercise.timeline import format_offset
from drillbook.domain.exercise.views import criteria_view, injects_view
from drillbook.domain.scenario.enums import PHASE_ORDER
from drillbook.web.app import context, templates

router = APIRouter()

STREAM_INTERVAL_SECONDS = 1.0
_KIND_LABELS = {
    "status_changed": "Status",
    "phase_started": "Phase",
    "inject": "New information",
    "decision": "Decision",
    "observation": "Observation",
    "note": "Note",
    "role_assigned": "Role",
}


def exercise_state(exercise: Exercise) -> dict[str, Any]:
    """Everything the live view shows, as plain data."""
    scenario = scenario_of(exercise)
    ticker = clock_of(exercise, scenario)
    phase = ticker.phase or ticker.scheduled_phase
    windows = scenario.phase_windows() if scenario else []
    current_index = PHASE_ORDER.index(phase) if phase else -1
    phases = [
        {
            "name": w.name.label,
            "span": f"{w.start}–{w.end}",
            "state": (
                "current"
                if PHASE_ORDER.index(w.name) == current_index
                else "done"
                if PHASE_ORDER.index(w.name) < current_index
                else "todo"
            ),
            "weight": max(w.end_minute - w.start_minute, 1),
        }
        for w in windows
    ]
    # one evaluation with `drillbook exercise show`; the page's words for its states
    words = {"open": "pending", "met": "met", "missed": "unmet"}
    criteria = [
        {"text": c["text"], "state": words[c["state"]], "reason": c["detail"], "key": c["key"]}
        for c in criteria_view(exercise, scenario, ticker)
    ]
    timeline = [
        {
            "kind": _KIND_LABELS.get(e.kind, e.kind.replace("_", " ").title()),
            "raw_kind": e.kind,
            "text": e.text or "",
            "who": e.author or e.role or "",
            "at": e.at.strftime("%H:%M:%S UTC"),
        }
        for e in reversed(exercise.events)
    ]
    nexts = injects_view(ticker)
    return {
        "id": exercise.id,
        "label": exercise.label,
        "title": exercise.title,
        "status": str(ticker.status),
        "running": ticker.status.value == "running",
        "elapsed_seconds": int(ticker.elapsed.total_seconds()),
        "elapsed": format_offset(ticker.elapsed),
        "phase": phase.label if phase else "Not started",
        "phases": phases,
        **{k: nexts[k] for k in ("next_inject_in", "next_inject_due_seconds", "next_inject_at")},
        "injects_due": len(ticker.due),
        "injects_pending": ticker.pending,
        "roles": [
            {"role": r.replace("_", " "), "person": p}
            for r, p in sorted(current_roles(exercise).items())
        ],
        "criteria": criteria,
        "timeline": timeline,
    }


@router.get("/exercises", response_class=HTMLResponse)
def exercise_list(request: Request) -> HTMLResponse:
    with context(request).store.session() as session:
        rows = [
            {
                "id": e.id,
                "label": e.label,
                "title": e.title,
                "status": e.status,
                "date": e.run_date,
                "team": e.team or "",
            }
            for e in list_exercises(session)
        ]
    return templates.TemplateResponse(request, "exercises.html", {"rows": rows})


@router.get("/exercises/{exercise_id}", response_class=HTMLResponse)
def exercise_live(request: Request, exercise_id: str) -> HTMLResponse:
    with context(request).store.session() as session:
        state = exercise_state(get_exercise(session, exercise_id))
    return templates.TemplateResponse(
        request, "exercise.html", {"x": state, "state_json": json.dumps(state)}
    )


@router.get("/api/exercises/{exercise_id}")
def exercise_api(request: Request, exercise_id: str) -> dict[str, Any]:
    with context(request).store.session() as session:
        return exercise_state(get_exercise(session, exercise_id))


@router.get("/exercises/{exercise_id}/stream")
async def exercise_stream(request: Request, exercise_id: str) -> StreamingResponse:
    store = context(request).store

    def snapshot() -> str:
        with store.session() as session:
            return json.dumps(exercise_state(get_exercise(session, exercise_id)))

    first = await asyncio.to_thread(snapshot)  # a bad id fails here, as a 404

    async def events() -> AsyncIterator[str]:
        last = first
        yield f"data: {first}\n\n"
        while not await request.is_disconnected():
            await asyncio.sleep(STREAM_INTERVAL_SECONDS)
            current = await asyncio.to_thread(snapshot)
            if current != last:
                last = current
                yield f"data: {current}\n\n"
            else:
                yield ": keep-alive\n\n"

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )
