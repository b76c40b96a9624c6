"""One small client for an OpenAI-compatible chat endpoint, shared by the three model passes.

A pass hands over a versioned prompt (a file in ``drillbook/planning/prompts/``) and a JSON
payload, and gets back either the parsed JSON answer or the reason there is none: the
endpoint did not answer, answered an HTTP error, refused, or answered something that is not
JSON. Every call leaves an :class:`Exchange` (what was sent, what came back, whether it was
used and why not) so the pass can keep it with the exercise for review. The API key is sent
as a header and never recorded.

Where the endpoint is comes from ``--llm-url``, then ``DRILLBOOK_LLM_URL``, then the
``llm:`` section of ``drillbook.yaml`` (:class:`LlmSettings`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from drillbook import clock
from drillbook.config import DATA_DIR, setting
from drillbook.errors import ConfigError

DEFAULT_TIMEOUT_SECONDS = 60.0
EXCHANGE_DIR = f"{DATA_DIR}/llm"
MAX_ANSWER_CHARS = 200_000
"""An answer longer than this is not read: no pass needs more, and a runaway model could."""


class LlmSettings(BaseModel):
    """The ``llm:`` section of drillbook.yaml. The key itself never goes in the file:
    ``api_key_env`` names the environment variable that holds it."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, description="Endpoint base URL.")
    model: str | None = None
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]*$")
    timeout_seconds: float = Field(default=DEFAULT_TIMEOUT_SECONDS, gt=0, le=600)


@dataclass(frozen=True)
class Endpoint:
    url: str
    model: str = ""
    api_key: str = field(default="", repr=False)
    timeout: float = DEFAULT_TIMEOUT_SECONDS

    @property
    def target(self) -> str:
        url = self.url.rstrip("/")
        if url.endswith("/chat/completions"):
            return url
        if url.endswith("/v1"):
            return url + "/chat/completions"
        return url + "/v1/chat/completions"


def resolve_endpoint(section: dict[str, Any] | None, url: str | None = None) -> Endpoint:
    """The endpoint from ``--llm-url``/env/drillbook.yaml; a ConfigError saying what to set
    when there is none or the section is malformed."""
    try:
        configured = LlmSettings.model_validate(section or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"drillbook.yaml llm.{where}: {first['msg']}") from None
    chosen = url or setting("DRILLBOOK_LLM_URL") or configured.url
    if not chosen:
        raise ConfigError(
            "--llm needs an endpoint: pass --llm-url, set DRILLBOOK_LLM_URL, "
            "or add `llm: {url: ...}` to drillbook.yaml"
        )
    if not chosen.startswith(("http://", "https://")):
        raise ConfigError(f"LLM endpoint {chosen!r}: write an http:// or https:// URL")
    key = setting("DRILLBOOK_LLM_API_KEY")
    if not key and configured.api_key_env:
        import os

        key = os.environ.get(configured.api_key_env, "")
    return Endpoint(
        url=chosen,
        model=setting("DRILLBOOK_LLM_MODEL") or configured.model or "",
        api_key=key,
        timeout=configured.timeout_seconds,
    )


def prompt_text(name: str) -> tuple[str, str]:
    """(version, text) of the packaged prompt ``name``: the highest ``name.vN.md``."""
    folder = resources.files("drillbook.planning") / "prompts"
    found: list[tuple[int, str]] = []
    for entry in folder.iterdir():
        matched = re.fullmatch(rf"{re.escape(name)}\.v(\d+)\.md", entry.name)
        if matched:
            found.append((int(matched.group(1)), entry.name))
    if not found:
        raise LookupError(f"no packaged prompt {name}.vN.md")
    _, file_name = max(found)
    return file_name.removesuffix(".md"), (folder / file_name).read_text(encoding="utf-8")


@dataclass
class Exchange:
    """What one pass sent and got back, kept for review."""

    purpose: str
    prompt: str
    url: str
    model: str
    sent: list[dict[str, str]]
    received: str | None = None
    accepted: bool = False
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "prompt": self.prompt,
            "url": self.url,
            "model": self.model,
            "sent": self.sent,
            "received": self.received,
            "accepted": self.accepted,
            "reason": self.reason,
        }


class Rejected(Exception):
    """The answer cannot be used; the message says why (shown to the user)."""


def _content(body: Any) -> str:
    try:
        message = body["choices"][0]["message"]
    except (KeyError, IndexError, TypeError):
        raise Rejected("the answer has no choices[0].message") from None
    if not isinstance(message, dict):
        raise Rejected("choices[0].message is not an object")
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal.strip():
        raise Rejected(f"the model refused: {refusal.strip()[:200]}")
    content = message.get("content")
    if not isinstance(content, str) or not content.strip():
        raise Rejected("choices[0].message.content is empty or not text")
    fenced = re.search(r"```(?:json)?\s*(.*?)```", content, re.DOTALL)
    return fenced.group(1) if fenced else content


def ask_json(
    endpoint: Endpoint,
    *,
    purpose: str,
    prompt: str,
    payload: Any,
    transport: httpx.BaseTransport | None = None,
) -> tuple[Any, Exchange]:
    """Send ``payload`` under the packaged prompt ``prompt``; return (answer, exchange).

    The answer is the parsed JSON, or None with ``exchange.reason`` saying why not. The
    caller validates the answer and sets ``accepted``/``reason`` on the exchange.
    """
    version, system = prompt_text(prompt)
    messages = [
        {"role": "system", "content": system},
        {"role": "user", "content": json.dumps(payload, ensure_ascii=False, default=str)},
    ]
    exchange = Exchange(purpose, version, endpoint.target, endpoint.model, messages)
    body = {"model": endpoint.model or "default", "temperature": 0, "messages": messages}
    headers = {"Authorization": f"Bearer {endpoint.api_key}"} if endpoint.api_key else {}
    try:
        with httpx.Client(transport=transport, timeout=endpoint.timeout) as client:
            response = client.post(endpoint.target, json=body, headers=headers)
    except httpx.HTTPError as exc:
        exchange.reason = f"{endpoint.target} did not answer: {type(exc).__name__}"
        return None, exchange
    exchange.received = response.text[:MAX_ANSWER_CHARS] if response.content else ""
    if response.status_code != 200:
        exchange.reason = f"{endpoint.target} answered HTTP {response.status_code}"
        return None, exchange
    try:
        answer = json.loads(_content(response.json()))
    except Rejected as exc:
        exchange.reason = str(exc)
        return None, exchange
    except ValueError:  # JSONDecodeError, or a body that is not even text
        exchange.reason = "the answer is not JSON"
        return None, exchange
    return answer, exchange


def save_exchange(folder: Path, exchange: Exchange) -> Path:
    """Write ``exchange`` as JSON into ``folder`` (``<library>/.drillbook/llm/``) for review
    when there is no exercise to keep it with (``exercise plan --llm``)."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = f"{clock.now():%Y%m%dT%H%M%S%fZ}-{re.sub(r'[^a-z0-9]+', '-', exchange.purpose.lower())}"
    target = folder / f"{stem}.json"
    target.write_text(json.dumps(exchange.as_dict(), indent=2, ensure_ascii=False), "utf-8")
    return target
