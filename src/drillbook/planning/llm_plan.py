"""``exercise plan --llm``: a model words the escalations and proposes variations.

The facilitator's script stays the deterministic one: minutes, phases, injects, decisions
and clocks are not the model's to change. The model sees the scenario's statement and the
pre-scripted escalations (minute, trigger, text) and answers with

* ``escalations``: one rewritten text per escalation, same count and order, and
* ``variations``: up to :data:`MAX_VARIATIONS` extra curveballs (minute, trigger, text)
  the facilitator can drop if the room is ahead (the first seed: "the Incident Lead solves
  everything in 5 minutes").

The answer is validated (:class:`PlanAnswer`), then checked against the script (same
number of escalations, every minute inside the session) and the new script is linted
(:func:`script_problems`); anything wrong gives back the deterministic script with the
reason.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from drillbook.domain.scenario.models import Scenario, phase_at
from drillbook.planning.llm_client import Endpoint, Exchange, ask_json
from drillbook.planning.script import FacilitatorScript, ScriptEntry

PROMPT = "plan-escalations"
MAX_VARIATIONS = 3
MAX_TEXT = 600
VARIATION_NOTE = "Variation proposed by the model: drop it only if the room is ahead."


class _Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Variation(_Answer):
    minute: int = Field(ge=0)
    trigger: str = Field(min_length=3, max_length=200)
    text: str = Field(min_length=10, max_length=MAX_TEXT)


class PlanAnswer(_Answer):
    escalations: list[str] = Field(max_length=20)
    variations: list[Variation] = Field(default_factory=list, max_length=MAX_VARIATIONS)


@dataclass(frozen=True)
class PlanResult:
    script: FacilitatorScript
    rewritten: bool
    notice: str
    exchange: Exchange


def _escalations(script: FacilitatorScript) -> list[ScriptEntry]:
    return [e for e in script.entries if e.kind == "escalation"]


def plan_payload(scenario: Scenario, script: FacilitatorScript) -> dict[str, object]:
    return {
        "title": scenario.title,
        "statement": scenario.initial_state.strip(),
        "duration_minutes": script.duration_minutes,
        "phases": [
            {"name": p.name.value, "start": round(p.start_minute), "end": round(p.end_minute)}
            for p in script.phases
        ],
        "escalations": [
            {
                "minute": e.minute,
                "trigger": next((d for d in e.details if d.startswith("When: ")), "")[6:],
                "text": e.text,
            }
            for e in _escalations(script)
        ],
    }


def script_problems(script: FacilitatorScript) -> list[str]:
    """What makes a script unusable: an entry outside the session, or an empty line."""
    problems = []
    for entry in script.entries:
        if not 0 <= entry.minute <= script.duration_minutes:
            problems.append(
                f"{entry.kind} at minute {entry.minute} is outside the "
                f"{script.duration_minutes}-minute session"
            )
        if not entry.text.strip():
            problems.append(f"{entry.kind} at minute {entry.minute} has no text")
    return problems


def apply_answer(script: FacilitatorScript, answer: PlanAnswer) -> FacilitatorScript:
    """The script with the model's wording and variations; ValueError saying why not."""
    current = _escalations(script)
    if len(answer.escalations) != len(current):
        raise ValueError(f"expected {len(current)} escalation texts, got {len(answer.escalations)}")
    for index, text in enumerate(answer.escalations):
        if not 10 <= len(text.strip()) <= MAX_TEXT:
            raise ValueError(f"escalations[{index}]: write 10 to {MAX_TEXT} characters")
    reworded = iter(answer.escalations)
    entries = [
        replace(e, text=next(reworded).strip()) if e.kind == "escalation" else e
        for e in script.entries
    ]
    for index, variation in enumerate(answer.variations):
        if variation.minute > script.duration_minutes:
            raise ValueError(
                f"variations[{index}]: minute {variation.minute} is after the "
                f"{script.duration_minutes}-minute session"
            )
        entries.append(
            ScriptEntry(
                variation.minute,
                "escalation",
                phase_at(script.phases, variation.minute),
                variation.text.strip(),
                details=(f"When: {variation.trigger.strip()}", VARIATION_NOTE),
            )
        )
    order = {"phase": 0, "clock": 1, "inject": 2, "breakout": 3, "escalation": 4, "decision": 5}
    entries.sort(key=lambda e: (e.minute, order.get(e.kind, 9)))
    changed = replace(script, entries=entries)
    problems = script_problems(changed)
    if problems:
        raise ValueError("; ".join(problems))
    return changed


def reword_script(
    scenario: Scenario,
    script: FacilitatorScript,
    endpoint: Endpoint,
    *,
    transport: httpx.BaseTransport | None = None,
) -> PlanResult:
    """Ask the model for escalation wording and variations; fall back on any failure."""
    answer, exchange = ask_json(
        endpoint,
        purpose="exercise plan",
        prompt=PROMPT,
        payload=plan_payload(scenario, script),
        transport=transport,
    )

    def fallback(reason: str) -> PlanResult:
        exchange.reason = reason
        return PlanResult(
            script,
            False,
            f"LLM pass skipped ({reason}); wrote the deterministic script instead",
            exchange,
        )

    if answer is None:
        return fallback(exchange.reason)
    try:
        parsed = PlanAnswer.model_validate(answer)
        changed = apply_answer(script, parsed)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "answer"
        return fallback(f"the answer does not fit the plan schema: {where}: {first['msg']}")
    except ValueError as exc:
        return fallback(f"the answer was rejected: {exc}")
    exchange.accepted = True
    added = len(parsed.variations)
    return PlanResult(
        changed,
        True,
        f"escalations worded by {endpoint.model or 'the model'}; {added} variation"
        f"{'' if added == 1 else 's'} added",
        exchange,
    )
