"""``finding draft``: the post-exercise fix list drafted from the timeline (third pass).

The deterministic draft reads what the room left behind: every success criterion the
team missed, every inject after which no decision was logged, and every observation or
note that names a gap ("nobody knew who could revoke the key"). Each draft gap is tagged
policy, configuration or training and carries the timeline events it came from, so a
reviewer can check it against what happened.

With a model (:func:`draft_with_model`) the timeline and the missed criteria go to the
endpoint under the packaged ``finding-draft`` prompt; the answer must fit
:class:`ModelGaps`, and every event it cites must be one of this exercise's events (a
model that invents evidence is rejected). Anything invalid gives the deterministic draft
with the reason. Either way, what was sent and received is logged on the exercise as a
``model_exchange`` timeline event. Nothing is stored as a finding until
:func:`save_drafts` is called (``finding draft --save``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from drillbook.domain.exercise.enums import EventKind
from drillbook.domain.exercise.evaluation import evaluate_criteria, offsets, unanswered_injects
from drillbook.domain.exercise.models import Exercise, ExerciseEvent
from drillbook.domain.exercise.service import clock_of, log_event, scenario_of
from drillbook.domain.exercise.timeline import format_offset
from drillbook.domain.finding.classify import guess_capability, guess_change_type
from drillbook.domain.finding.enums import Capability, ChangeType, FindingSource, Severity
from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.service import create_finding
from drillbook.domain.program.models import SlaPolicy
from drillbook.planning.llm_client import Endpoint, Exchange, ask_json

PROMPT = "finding-draft"
MAX_GAPS = 20
_GAP_WORDS = re.compile(
    r"\b(no ?one|nobody|did(?:n'?t| not)|could(?:n'?t| not)|can(?:'?t|not)|unclear|unsure|"
    r"not sure|missing|missed|forgot|no (?:runbook|owner|process|access|way|plan)|"
    r"took \d+|delay(?:ed)?|waited|gap|confus\w*|wrong|without|too late|unknown|never|"
    r"had(?:n'?t| not)|was(?:n'?t| not)|were(?:n'?t| not))\b",
    re.I,
)
_PEOPLE_WORDS = re.compile(r"did(?:n'?t| not) know|unsure|not sure|confus|forgot|unclear who", re.I)
_REMEDIATION = {
    ChangeType.POLICY: "Write down who decides and how, and put it in the runbook.",
    ChangeType.CONFIGURATION: "Change the setting, rule or integration, then re-test it.",
    ChangeType.TRAINING: "Walk the people who hold this seat through it, then rehearse it.",
}


class Evidence(BaseModel):
    """One timeline event (or missed criterion) a draft gap comes from."""

    kind: str
    text: str
    event_id: int | None = None
    offset: str | None = None


class DraftGap(BaseModel):
    description: str
    change_type: ChangeType
    capability: Capability
    severity: Severity
    proposed_remediation: str
    evidence: list[Evidence]


@dataclass(frozen=True)
class DraftResult:
    exercise: str
    gaps: list[DraftGap]
    by_model: bool
    notice: str
    exchange: Exchange | None = None


def change_type_of(text: str) -> ChangeType:
    """Policy, configuration or training: the words first, then people-words mean training,
    and a gap nobody owns is a policy gap."""
    guessed = guess_change_type(text)
    if guessed is not None:
        return guessed
    return ChangeType.TRAINING if _PEOPLE_WORDS.search(text) else ChangeType.POLICY


def _evidence(event: ExerciseEvent, at: dict[int, timedelta]) -> Evidence:
    offset = at.get(event.id)
    return Evidence(
        kind=event.kind,
        text=(event.text or "").strip(),
        event_id=event.id,
        offset=format_offset(offset) if offset is not None else None,
    )


def _gap(description: str, severity: Severity, evidence: list[Evidence]) -> DraftGap:
    change = change_type_of(description)
    return DraftGap(
        description=description,
        change_type=change,
        capability=guess_capability(description) or Capability.OTHER,
        severity=severity,
        proposed_remediation=_REMEDIATION[change],
        evidence=evidence,
    )


def draft_findings(exercise: Exercise) -> list[DraftGap]:
    """The deterministic draft: missed criteria, unanswered injects, gap-naming notes."""
    events = list(exercise.events)
    at = offsets(events)
    scenario = scenario_of(exercise)
    gaps: list[DraftGap] = []
    if scenario is not None:
        for result in evaluate_criteria(scenario.criteria, events, clock_of(exercise, scenario)):
            if result.gap:
                cited = [
                    Evidence(kind="criterion", text=f"{result.criterion.text}: {result.reason}")
                ]
                cited += [_evidence(item.event, at) for item in result.evidence]
                gaps.append(_gap(f"Missed: {result.criterion.text}", Severity.HIGH, cited))
    for unanswered in unanswered_injects(events):
        text = (unanswered.inject.text or "").strip()
        gaps.append(
            _gap(
                f"No decision was logged after the inject: {text}",
                Severity.MEDIUM,
                [_evidence(unanswered.inject, at)],
            )
        )
    for event in events:
        noted = event.kind in (EventKind.OBSERVATION, EventKind.NOTE)
        if noted and event.text and _GAP_WORDS.search(event.text):
            gaps.append(_gap(event.text.strip(), Severity.MEDIUM, [_evidence(event, at)]))
    seen: set[str] = set()
    unique = []
    for gap in gaps:
        key = " ".join(gap.description.lower().split())
        if key not in seen:
            seen.add(key)
            unique.append(gap)
    return unique[:MAX_GAPS]


class ModelGap(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=10, max_length=1000)
    change_type: ChangeType
    capability: Capability = Capability.OTHER
    severity: Severity = Severity.MEDIUM
    proposed_remediation: str = Field(min_length=5, max_length=1000)
    evidence: list[int] = Field(min_length=1, max_length=20)


class ModelGaps(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gaps: list[ModelGap] = Field(min_length=1, max_length=MAX_GAPS)


def draft_payload(exercise: Exercise) -> dict[str, object]:
    events = [e for e in exercise.events if e.kind != EventKind.MODEL_EXCHANGE]
    at = offsets(events)
    scenario = scenario_of(exercise)
    missed = (
        [
            f"{r.criterion.text}: {r.reason}"
            for r in evaluate_criteria(scenario.criteria, events, clock_of(exercise, scenario))
            if r.gap
        ]
        if scenario
        else []
    )
    return {
        "title": exercise.title,
        "timeline": [
            {
                "id": e.id,
                "time": format_offset(at[e.id]),
                "kind": e.kind,
                "phase": e.phase,
                "who": e.author,
                "role": e.role,
                "text": e.text,
            }
            for e in events
            if e.kind != EventKind.STATUS_CHANGED or e.text
        ],
        "missed_criteria": missed,
    }


def _from_model(exercise: Exercise, answer: object) -> list[DraftGap]:
    parsed = ModelGaps.model_validate(answer)
    events = {e.id: e for e in exercise.events if e.kind != EventKind.MODEL_EXCHANGE}
    at = offsets(list(exercise.events))
    gaps = []
    for index, gap in enumerate(parsed.gaps):
        unknown = [i for i in gap.evidence if i not in events]
        if unknown:
            raise ValueError(
                f"gaps[{index}] cites event {unknown[0]}, which is not in "
                f"{exercise.label}'s timeline"
            )
        gaps.append(
            DraftGap(
                description=gap.description.strip(),
                change_type=gap.change_type,
                capability=gap.capability,
                severity=gap.severity,
                proposed_remediation=gap.proposed_remediation.strip(),
                evidence=[_evidence(events[i], at) for i in dict.fromkeys(gap.evidence)],
            )
        )
    return gaps


def keep_exchange(
    session: Session, exercise: Exercise, exchange: Exchange, *, author: str | None = None
) -> ExerciseEvent:
    """Log what the model was sent and answered on the exercise's timeline."""
    verdict = "used" if exchange.accepted else f"not used: {exchange.reason}"
    return log_event(
        session,
        exercise,
        EventKind.MODEL_EXCHANGE,
        text=f"{exchange.purpose} with {exchange.model or 'the model'} ({verdict})",
        author=author,
        data=exchange.as_dict(),
    )


def draft_with_model(
    session: Session,
    exercise: Exercise,
    endpoint: Endpoint,
    *,
    author: str | None = None,
    transport: httpx.BaseTransport | None = None,
) -> DraftResult:
    """The model's draft, or the deterministic one with the reason; the exchange is kept."""
    answer, exchange = ask_json(
        endpoint,
        purpose="finding draft",
        prompt=PROMPT,
        payload=draft_payload(exercise),
        transport=transport,
    )
    gaps: list[DraftGap] | None = None
    if answer is not None:
        try:
            gaps = _from_model(exercise, answer)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "answer"
            exchange.reason = f"the answer does not fit the draft schema: {where}: {first['msg']}"
        except ValueError as exc:
            exchange.reason = f"the answer was rejected: {exc}"
    exchange.accepted = gaps is not None
    keep_exchange(session, exercise, exchange, author=author)
    if gaps is None:
        return DraftResult(
            exercise.label,
            draft_findings(exercise),
            False,
            f"LLM draft skipped ({exchange.reason}); drafted deterministically instead",
            exchange,
        )
    return DraftResult(
        exercise.label,
        gaps,
        True,
        f"{len(gaps)} gap{'' if len(gaps) == 1 else 's'} drafted by "
        f"{endpoint.model or 'the model'}",
        exchange,
    )


def save_drafts(
    session: Session,
    exercise: Exercise,
    gaps: list[DraftGap],
    *,
    sla: SlaPolicy | None = None,
    author: str | None = None,
) -> list[Finding]:
    """Open one finding per draft gap, linked to the exercise, with its evidence kept."""
    opened = []
    for gap in gaps:
        opened.append(
            create_finding(
                session,
                description=gap.description,
                severity=str(gap.severity),
                source=str(FindingSource.EXERCISE),
                source_ref=exercise.label,
                team=exercise.team,
                proposed_remediation=gap.proposed_remediation,
                capability=str(gap.capability),
                change_type=str(gap.change_type),
                exercise_id=exercise.id,
                sla=sla,
                author=author,
                extra={"draft_evidence": [e.model_dump() for e in gap.evidence]},
            )
        )
    return opened


def deterministic_result(exercise: Exercise) -> DraftResult:
    gaps = draft_findings(exercise)
    return DraftResult(
        exercise.label,
        gaps,
        False,
        f"{len(gaps)} gap{'' if len(gaps) == 1 else 's'} drafted from the timeline",
    )
