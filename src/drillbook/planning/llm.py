"""``scenario generate --llm``: let an OpenAI-compatible endpoint rewrite the prose.

The model only ever sees and returns prose: the title, the statement, inject
descriptions, decision questions, what the Incident Lead must figure out, discussion
questions and escalations. Ids, times, phases, roles, options and success criteria stay
as generated. The answer is checked field by field (same keys, same list lengths,
non-empty strings) and the result must validate as a :class:`Scenario`; anything else,
or an endpoint that does not answer, gives back the deterministic scenario with a notice
that says why. Works with local model servers (llama.cpp, vLLM, Ollama's OpenAI API).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import ValidationError

from drillbook.domain.scenario.models import Scenario
from drillbook.planning.llm_client import DEFAULT_TIMEOUT_SECONDS, Endpoint, Exchange, ask_json

TIMEOUT_SECONDS = DEFAULT_TIMEOUT_SECONDS
PROMPT = "scenario-rewrite"


@dataclass(frozen=True)
class LlmResult:
    scenario: Scenario
    rewritten: bool
    notice: str
    exchange: Exchange | None = None


def prose_of(scenario: Scenario) -> dict[str, Any]:
    """The rewritable text of ``scenario``, in a shape the model must return unchanged."""
    return {
        "title": scenario.title,
        "initial_state": scenario.initial_state,
        "injects": [i.description for i in scenario.injects],
        "decision_points": [
            {"question": d.question, "must_figure_out": list(d.must_figure_out)}
            for d in scenario.decision_points
        ],
        "discussion_questions": list(scenario.discussion_questions),
        "escalations": [e.description for e in scenario.escalations],
    }


class _Shape(Exception):
    pass


def _same_shape(original: Any, answer: Any, where: str) -> None:
    if isinstance(original, str):
        if not isinstance(answer, str) or not answer.strip():
            raise _Shape(f"{where}: expected non-empty text")
        return
    if isinstance(original, list):
        if not isinstance(answer, list) or len(answer) != len(original):
            raise _Shape(f"{where}: expected a list of {len(original)} items")
        for index, (left, right) in enumerate(zip(original, answer, strict=True)):
            _same_shape(left, right, f"{where}[{index}]")
        return
    if isinstance(original, dict):
        if not isinstance(answer, dict) or set(answer) != set(original):
            raise _Shape(f"{where or 'answer'}: expected keys {', '.join(sorted(original))}")
        for key in original:
            _same_shape(original[key], answer[key], f"{where}.{key}".lstrip("."))


def _apply(scenario: Scenario, prose: dict[str, Any]) -> Scenario:
    document = scenario.model_dump(mode="json", exclude_none=True)
    document["title"] = prose["title"]
    state = prose["initial_state"]
    document["initial_state"] = state if state.endswith("\n") else state + "\n"
    for inject, text in zip(document["injects"], prose["injects"], strict=True):
        inject["description"] = text
    for point, text in zip(document["decision_points"], prose["decision_points"], strict=True):
        point["question"] = text["question"]
        point["must_figure_out"] = text["must_figure_out"]
    document["discussion_questions"] = prose["discussion_questions"]
    for escalation, text in zip(document["escalations"], prose["escalations"], strict=True):
        escalation["description"] = text
    return Scenario.model_validate(document)


def rewrite_prose(
    scenario: Scenario,
    *,
    url: str,
    model: str = "",
    api_key: str = "",
    transport: httpx.BaseTransport | None = None,
    timeout: float = TIMEOUT_SECONDS,
) -> LlmResult:
    """Ask the endpoint at ``url`` to rewrite the prose; fall back on any failure."""
    original = prose_of(scenario)
    endpoint = Endpoint(url=url, model=model, api_key=api_key, timeout=timeout)
    answer, exchange = ask_json(
        endpoint, purpose="scenario generate", prompt=PROMPT, payload=original, transport=transport
    )

    def fallback(reason: str) -> LlmResult:
        exchange.reason = reason
        return LlmResult(
            scenario,
            False,
            f"LLM rewrite skipped ({reason}); wrote the deterministic scenario instead",
            exchange,
        )

    if answer is None:
        return fallback(exchange.reason)
    try:
        _same_shape(original, answer, "")
        rewritten = _apply(scenario, answer)
    except _Shape as exc:
        return fallback(f"the answer changed the structure: {exc}")
    except ValidationError as exc:
        return fallback(f"the rewritten scenario is invalid: {exc.error_count()} problems")
    exchange.accepted = True
    return LlmResult(
        rewritten,
        True,
        f"prose rewritten by {model or 'the model'} at {endpoint.target}",
        exchange,
    )
