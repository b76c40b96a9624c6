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

import json
import re
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import ValidationError

from drillbook.domain.scenario.models import Scenario

TIMEOUT_SECONDS = 60.0
_SYSTEM = (
    "You rewrite incident tabletop scenarios so they read like a real incident: plain, "
    "specific, no theatrics. You receive JSON and answer with JSON of exactly the same "
    "shape: same keys, same number of items in every list, only the string values "
    "rewritten. Keep every name (agents, tools, people, customers, channels) as given. "
    "Answer with the JSON object only."
)


@dataclass(frozen=True)
class LlmResult:
    scenario: Scenario
    rewritten: bool
    notice: str


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


def _endpoint(url: str) -> str:
    url = url.rstrip("/")
    if url.endswith("/chat/completions"):
        return url
    if url.endswith("/v1"):
        return url + "/chat/completions"
    return url + "/v1/chat/completions"


def _content(body: Any) -> str:
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise _Shape("the answer has no choices[0].message.content") from None
    if not isinstance(content, str):
        raise _Shape("choices[0].message.content is not text")
    fenced = re.search(r"```(?:json)?\s*(.*?)```", content, re.DOTALL)
    return fenced.group(1) if fenced else content


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
    payload = {
        "model": model or "default",
        "temperature": 0,
        "messages": [
            {"role": "system", "content": _SYSTEM},
            {"role": "user", "content": json.dumps(original, ensure_ascii=False)},
        ],
    }
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    target = _endpoint(url)

    def fallback(reason: str) -> LlmResult:
        return LlmResult(
            scenario,
            False,
            f"LLM rewrite skipped ({reason}); wrote the deterministic scenario instead",
        )

    try:
        with httpx.Client(transport=transport, timeout=timeout) as client:
            response = client.post(target, json=payload, headers=headers)
    except httpx.HTTPError as exc:
        return fallback(f"{target} did not answer: {type(exc).__name__}")
    if response.status_code != 200:
        return fallback(f"{target} answered HTTP {response.status_code}")
    try:
        answer = json.loads(_content(response.json()))
        _same_shape(original, answer, "")
        rewritten = _apply(scenario, answer)
    except _Shape as exc:
        return fallback(f"the answer changed the structure: {exc}")
    except ValidationError as exc:
        return fallback(f"the rewritten scenario is invalid: {exc.error_count()} problems")
    except ValueError:  # JSONDecodeError, or a body that is not even text
        return fallback("the answer is not JSON")
    return LlmResult(rewritten, True, f"prose rewritten by {model or 'the model'} at {target}")
