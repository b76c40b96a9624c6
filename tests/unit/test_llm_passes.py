"""The model passes (exercise plan --llm, finding draft --llm) against a real HTTP server on
loopback: good answers are used, and malformed JSON, schema-invalid documents, invented
evidence, timeouts and refusals each fall back to the deterministic result with a reason."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.clock import FakeClock
from drillbook.domain.exercise import service
from drillbook.domain.exercise.enums import EventKind
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.finding.enums import ChangeType
from drillbook.domain.finding.service import list_findings
from drillbook.domain.scenario.models import Scenario
from drillbook.errors import ConfigError
from drillbook.flows.finding_draft import draft_findings, draft_with_model, save_drafts
from drillbook.library.loader import load_scenario_file
from drillbook.planning.llm import rewrite_prose
from drillbook.planning.llm_client import Endpoint, resolve_endpoint
from drillbook.planning.llm_plan import VARIATION_NOTE, reword_script, script_problems
from drillbook.planning.script import build_script
from drillbook.storage.engine import Store
from tests.helpers import SEED
from tests.llm_endpoint import Answer, LlmEndpoint, chat, payload_of

SCENARIO = SEED / "scenarios" / "data-exfil-via-mcp.yaml"


@pytest.fixture
def serve() -> Iterator[Callable[..., LlmEndpoint]]:
    servers: list[LlmEndpoint] = []

    def start(answer: Answer, delay: float = 0.0) -> LlmEndpoint:
        servers.append(LlmEndpoint(answer, delay))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _scenario() -> Scenario:
    return load_scenario_file(SCENARIO).scenario


def _endpoint(server: LlmEndpoint, timeout: float = 10.0) -> Endpoint:
    return Endpoint(url=server.url, model="tiny", api_key="s3cret", timeout=timeout)


# -- answers -------------------------------------------------------------------------------


def good_plan(request: dict[str, Any]) -> tuple[int, str]:
    sent = payload_of(request)
    texts = [f"Reworded: {e['text']}" for e in sent["escalations"]]
    variation = {"minute": 20, "trigger": "if the room is ahead", "text": "Legal asks for a hold."}
    return chat("```json\n" + json.dumps({"escalations": texts, "variations": [variation]}) + "```")


def malformed(request: dict[str, Any]) -> tuple[int, str]:
    return chat('{"escalations": ["unterminated')


def refusal(request: dict[str, Any]) -> tuple[int, str]:
    return chat(None, refusal="I can't help with incident planning.")


def plan_wrong_count(request: dict[str, Any]) -> tuple[int, str]:
    return chat(json.dumps({"escalations": ["Only one escalation, reworded."]}))


def plan_outside_session(request: dict[str, Any]) -> tuple[int, str]:
    sent = payload_of(request)
    texts = [e["text"] for e in sent["escalations"]]
    late = {"minute": 500, "trigger": "much later", "text": "A second incident appears."}
    return chat(json.dumps({"escalations": texts, "variations": [late]}))


def plan_extra_key(request: dict[str, Any]) -> tuple[int, str]:
    sent = payload_of(request)
    texts = [e["text"] for e in sent["escalations"]]
    return chat(json.dumps({"escalations": texts, "injects": ["new inject"]}))


# -- exercise plan --llm -----------------------------------------------------------------


def test_plan_pass_words_escalations_and_adds_variations(
    serve: Callable[..., LlmEndpoint],
) -> None:
    server = serve(good_plan)
    scenario = _scenario()
    script = build_script(scenario)
    result = reword_script(scenario, script, _endpoint(server))
    assert result.rewritten, result.notice
    assert server.received[0]["auth"] == "Bearer s3cret"
    before = [e for e in script.entries if e.kind == "escalation"]
    after = [e for e in result.script.entries if e.kind == "escalation"]
    assert len(after) == len(before) + 1
    assert [e.minute for e in after if VARIATION_NOTE not in e.details] == [
        e.minute for e in before
    ]
    assert all(e.text.startswith("Reworded: ") for e in after if VARIATION_NOTE not in e.details)
    added = [e for e in after if VARIATION_NOTE in e.details]
    assert [(e.minute, e.text) for e in added] == [(20, "Legal asks for a hold.")]
    # What is not the model's to change stays as it was.
    assert [e for e in result.script.entries if e.kind != "escalation"] == [
        e for e in script.entries if e.kind != "escalation"
    ]
    assert result.exchange.accepted
    assert result.exchange.prompt == "plan-escalations.v1"
    assert "s3cret" not in json.dumps(result.exchange.as_dict())


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (malformed, "not JSON"),
        (refusal, "the model refused: I can't help"),
        (plan_wrong_count, "escalation texts"),
        (plan_outside_session, "after the 90-minute session"),
        (plan_extra_key, "does not fit the plan schema: injects"),
        (lambda _: (500, "{}"), "HTTP 500"),
        (lambda _: chat("Sure! Here is the plan you asked for."), "not JSON"),
    ],
)
def test_plan_pass_falls_back_with_the_reason(
    serve: Callable[..., LlmEndpoint], answer: Answer, reason: str
) -> None:
    scenario = _scenario()
    script = build_script(scenario)
    result = reword_script(scenario, script, _endpoint(serve(answer)))
    assert not result.rewritten
    assert reason in result.notice
    assert "deterministic script" in result.notice
    assert result.script is script
    assert result.exchange.reason
    assert not result.exchange.accepted


def test_plan_pass_times_out(serve: Callable[..., LlmEndpoint]) -> None:
    server = serve(good_plan, delay=2.0)
    scenario = _scenario()
    script = build_script(scenario)
    result = reword_script(scenario, script, _endpoint(server, timeout=0.5))
    assert not result.rewritten
    assert "did not answer: ReadTimeout" in result.notice
    assert result.script is script


# -- scenario generate --llm: the two failures its own tests do not cover ------------------


@pytest.mark.parametrize(
    ("answer", "delay", "reason"),
    [(refusal, 0.0, "the model refused"), (malformed, 2.0, "did not answer: ReadTimeout")],
)
def test_scenario_pass_falls_back_on_refusal_and_timeout(
    serve: Callable[..., LlmEndpoint], answer: Answer, delay: float, reason: str
) -> None:
    scenario = _scenario()
    result = rewrite_prose(scenario, url=serve(answer, delay=delay).url, timeout=0.5)
    assert not result.rewritten
    assert reason in result.notice
    assert result.scenario == scenario
    assert result.exchange is not None
    assert not result.exchange.accepted


# -- finding draft [--llm] ---------------------------------------------------------------


def _ran_exercise(store: Store, fake_clock: FakeClock) -> int:
    with store.session() as session:
        exercise = service.create_exercise(
            session, scenario=_scenario(), assignments={"incident_lead": "alice"}
        )
        service.start(session, exercise)
        fake_clock.advance(timedelta(minutes=4))
        service.drop_inject(session, exercise, author="fran")
        fake_clock.advance(timedelta(minutes=6))
        service.record(
            session,
            exercise,
            EventKind.OBSERVATION,
            "Nobody knew who could revoke the payments-mcp API key",
            author="olga",
        )
        service.record(
            session,
            exercise,
            EventKind.OBSERVATION,
            "The comms lead had never practised the customer statement",
            author="olga",
        )
        service.record(session, exercise, EventKind.OBSERVATION, "Good energy in the room")
        fake_clock.advance(timedelta(minutes=20))
        service.end(session, exercise)
        return exercise.id


def _events(store: Store, exercise_id: int) -> dict[str, int]:
    with store.session() as session:
        exercise = session.get(Exercise, exercise_id)
        assert exercise is not None
        return {e.text or "": e.id for e in exercise.events}


def test_deterministic_draft_tags_gaps_with_their_evidence(
    sqlite_store: Store, fake_clock: FakeClock
) -> None:
    exercise_id = _ran_exercise(sqlite_store, fake_clock)
    ids = _events(sqlite_store, exercise_id)
    with sqlite_store.session() as session:
        exercise = service.get_exercise(session, exercise_id)
        gaps = {g.description: g for g in draft_findings(exercise)}
    revoke = gaps["Nobody knew who could revoke the payments-mcp API key"]
    assert revoke.capability == "credential_revocation"
    assert revoke.change_type == ChangeType.POLICY
    assert [e.event_id for e in revoke.evidence] == [
        ids["Nobody knew who could revoke the payments-mcp API key"]
    ]
    assert revoke.evidence[0].offset == "T+10:00"
    practised = gaps["The comms lead had never practised the customer statement"]
    assert practised.change_type == ChangeType.TRAINING
    assert "Good energy in the room" not in gaps
    missed = [g for g in gaps.values() if g.description.startswith("Missed: ")]
    assert missed
    assert all(g.evidence[0].kind == "criterion" for g in missed)
    unanswered = [g for g in gaps.values() if g.description.startswith("No decision")]
    assert unanswered
    assert unanswered[0].evidence[0].kind == "inject"


def _good_draft(request: dict[str, Any]) -> tuple[int, str]:
    timeline = payload_of(request)["timeline"]
    cited = next(e["id"] for e in timeline if "revoke" in (e["text"] or ""))
    gap = {
        "description": "Nobody owns revoking the payments-mcp key.",
        "change_type": "policy",
        "capability": "credential_revocation",
        "severity": "high",
        "proposed_remediation": "Name the owner of the key in the runbook.",
        "evidence": [cited],
    }
    return chat(json.dumps({"gaps": [gap]}))


def _invented_evidence(request: dict[str, Any]) -> tuple[int, str]:
    gap = {
        "description": "Something that never happened in the room.",
        "change_type": "training",
        "proposed_remediation": "Train everyone.",
        "evidence": [987654],
    }
    return chat(json.dumps({"gaps": [gap]}))


def _bad_tag(request: dict[str, Any]) -> tuple[int, str]:
    gap = {
        "description": "A gap with a made-up change type.",
        "change_type": "vibes",
        "proposed_remediation": "Fix it.",
        "evidence": [1],
    }
    return chat(json.dumps({"gaps": [gap]}))


def test_model_draft_is_used_and_the_exchange_kept(
    store: Store, fake_clock: FakeClock, serve: Callable[..., LlmEndpoint]
) -> None:
    sqlite_store = store  # both databases: the exchange and the evidence are JSON columns
    exercise_id = _ran_exercise(sqlite_store, fake_clock)
    server = serve(_good_draft)
    with sqlite_store.session() as session:
        exercise = service.get_exercise(session, exercise_id)
        result = draft_with_model(session, exercise, _endpoint(server), author="agent")
        assert result.by_model, result.notice
        saved = save_drafts(session, exercise, result.gaps)
    assert [g.description for g in result.gaps] == ["Nobody owns revoking the payments-mcp key."]
    assert result.gaps[0].evidence[0].text.startswith("Nobody knew who could revoke")
    sent = payload_of(server.received[0]["body"])
    assert any("comms lead" in (e["text"] or "") for e in sent["timeline"])
    with sqlite_store.session() as session:
        exercise = service.get_exercise(session, exercise_id)
        kept = [e for e in exercise.events if e.kind == EventKind.MODEL_EXCHANGE]
        assert len(kept) == 1
        assert kept[0].data["accepted"] is True
        assert kept[0].data["prompt"] == "finding-draft.v1"
        assert "payments-mcp key" in kept[0].data["received"]
        assert kept[0].data["sent"][1]["content"] == json.dumps(sent, ensure_ascii=False)
        assert "s3cret" not in json.dumps(kept[0].data)
        stored = list_findings(session, exercise_id=exercise_id)
        assert [f.id for f in stored] == [f.id for f in saved]
        assert stored[0].change_type == "policy"
        assert stored[0].extra["draft_evidence"][0]["kind"] == "observation"


@pytest.mark.parametrize(
    ("answer", "reason", "delay"),
    [
        (_invented_evidence, "cites event 987654, which is not in EX-1's timeline", 0.0),
        (_bad_tag, "does not fit the draft schema: gaps.0.change_type", 0.0),
        (malformed, "not JSON", 0.0),
        (refusal, "the model refused", 0.0),
        (lambda _: chat(json.dumps({"gaps": []})), "gaps: List should have at least 1", 0.0),
        (_good_draft, "did not answer: ReadTimeout", 2.0),
    ],
)
def test_model_draft_falls_back_with_the_reason(
    sqlite_store: Store,
    fake_clock: FakeClock,
    serve: Callable[..., LlmEndpoint],
    answer: Answer,
    reason: str,
    delay: float,
) -> None:
    exercise_id = _ran_exercise(sqlite_store, fake_clock)
    server = serve(answer, delay=delay)
    with sqlite_store.session() as session:
        exercise = service.get_exercise(session, exercise_id)
        expected = draft_findings(exercise)
        result = draft_with_model(session, exercise, _endpoint(server, timeout=0.5))
        assert not result.by_model
        assert reason in result.notice
        assert result.gaps == expected
        kept = [e for e in exercise.events if e.kind == EventKind.MODEL_EXCHANGE]
        assert kept[-1].data["accepted"] is False
        assert reason in kept[-1].data["reason"]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=20,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(answer=_json | st.fixed_dictionaries({"gaps": st.lists(_json, max_size=3)}))
def test_any_model_answer_gives_a_valid_draft_or_a_reason(
    sqlite_store: Store, fake_clock: FakeClock, answer: Any
) -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        body = {"choices": [{"message": {"content": json.dumps(answer)}}]}
        return httpx.Response(200, json=body)

    with sqlite_store.session() as session:
        exercise = service.create_exercise(session, scenario=_scenario())
        service.start(session, exercise)
        service.record(session, exercise, EventKind.NOTE, "nobody had the runbook")
        result = draft_with_model(
            session,
            exercise,
            Endpoint(url="http://model.invalid"),
            transport=httpx.MockTransport(reply),
        )
        assert result.by_model or "skipped" in result.notice
        known = {e.id for e in exercise.events}
        for gap in result.gaps:
            assert gap.evidence
            assert all(e.event_id in known for e in gap.evidence if e.event_id is not None)


_escalation_text = st.text(min_size=0, max_size=700)
_variation = st.fixed_dictionaries(
    {"minute": st.integers(-5, 200), "trigger": st.text(max_size=30), "text": st.text(max_size=50)}
)


@settings(max_examples=60, deadline=None)
@given(
    answer=_json
    | st.fixed_dictionaries(
        {
            "escalations": st.lists(_escalation_text, max_size=5),
            "variations": st.lists(_variation | _json, max_size=4),
        }
    )
)
def test_any_plan_answer_gives_a_valid_script_or_a_reason(answer: Any) -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"choices": [{"message": {"content": json.dumps(answer)}}]})

    scenario = _scenario()
    script = build_script(scenario)
    result = reword_script(
        scenario, script, Endpoint(url="http://model.invalid"), transport=httpx.MockTransport(reply)
    )
    if not result.rewritten:
        assert result.script is script
        assert "skipped" in result.notice
        return
    assert script_problems(result.script) == []
    assert [e for e in result.script.entries if e.kind != "escalation"] == [
        e for e in script.entries if e.kind != "escalation"
    ]


# -- configuration and the CLI -------------------------------------------------------------


def test_endpoint_comes_from_drillbook_yaml_and_bad_sections_are_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEAM_LLM_KEY", "k")
    endpoint = resolve_endpoint(
        {"url": "http://127.0.0.1:9/v1", "model": "m", "api_key_env": "TEAM_LLM_KEY"}
    )
    assert endpoint.target == "http://127.0.0.1:9/v1/chat/completions"
    assert (endpoint.model, endpoint.api_key) == ("m", "k")
    with pytest.raises(ConfigError, match=r"llm\.timeout_seconds"):
        resolve_endpoint({"url": "http://x", "timeout_seconds": -1})
    with pytest.raises(ConfigError, match="--llm needs an endpoint"):
        resolve_endpoint({})
    with pytest.raises(ConfigError, match="http:// or https://"):
        resolve_endpoint({"url": "file:///etc/passwd"})


def _library(tmp_path: Path, runner: CliRunner, url: str) -> Path:
    root = tmp_path / "lib"
    assert runner.invoke(app, ["init", str(root)]).exit_code == 0
    config = root / "drillbook.yaml"
    text = config.read_text(encoding="utf-8").replace("llm: {}", "")
    config.write_text(text + f"llm:\n  url: {url}\n  model: tiny\n", encoding="utf-8")
    return root


def test_cli_plan_and_draft_with_a_model(
    serve: Callable[..., LlmEndpoint],
    runner: CliRunner,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = _library(tmp_path, runner, serve(good_plan).url)
    monkeypatch.chdir(root)
    planned = runner.invoke(app, ["exercise", "plan", "mcp-server-data-exfiltration", "--llm"])
    assert planned.exit_code == 0, planned.output
    assert "Reworded: " in planned.output
    assert "Legal asks for a hold." in planned.output
    kept = list((root / ".drillbook" / "llm").glob("*-exercise-plan.json"))
    assert len(kept) == 1
    assert json.loads(kept[0].read_text(encoding="utf-8"))["accepted"] is True
    # A scenario answer of the wrong shape: rejected, the reason kept with the exchange.
    only_title = serve(lambda _: chat(json.dumps({"title": "Just a title"}))).url
    generated = runner.invoke(
        app,
        ["scenario", "generate", "--type", "prompt_injection", "--llm", "--llm-url", only_title],
    )
    assert generated.exit_code == 0, generated.output
    assert "changed the structure" in generated.output
    rejected = list((root / ".drillbook" / "llm").glob("*-scenario-generate.json"))
    assert len(rejected) == 1
    record = json.loads(rejected[0].read_text(encoding="utf-8"))
    assert record["accepted"] is False
    assert record["prompt"] == "scenario-rewrite.v1"
    assert "changed the structure" in record["reason"]

    draft_server = serve(_good_draft)
    for args in (
        ["exercise", "create", "mcp-server-data-exfiltration"],
        ["exercise", "start", "1"],
        ["exercise", "observe", "Nobody knew who could revoke the key", "-e", "1"],
        ["exercise", "end", "1"],
    ):
        done = runner.invoke(app, args)
        assert done.exit_code == 0, done.output
    drafted = runner.invoke(
        app, ["finding", "draft", "1", "--llm", "--llm-url", draft_server.url, "--save", "--json"]
    )
    assert drafted.exit_code == 0, drafted.output
    data = json.loads(drafted.stdout)
    assert data["by_model"] is True
    assert data["saved"] == ["F-001"]
    assert data["gaps"][0]["change_type"] == "policy"
    offline = json.loads(runner.invoke(app, ["finding", "draft", "1", "--json"]).stdout)
    assert offline["by_model"] is False
    assert "Nobody knew who could revoke the key" in [g["description"] for g in offline["gaps"]]
    plain = runner.invoke(app, ["finding", "draft", "1"])
    assert plain.exit_code == 0, plain.output
    assert "Draft fix list for EX-1" in plain.output
    assert "review it, then open them with --save" in plain.output
