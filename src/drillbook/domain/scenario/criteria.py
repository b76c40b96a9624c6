"""Success criteria: free text as the seed writes it, parsed into something measurable.

The seed writes criteria as sentences: "Incident commander identified within 5 minutes",
"Containment decision (offline vs. quarantine) at t+30 or earlier", "Data scope
quantified by t+60". :func:`parse_criterion` pulls out the deadline (minutes from the
start). What meets a criterion is *evidence that names it*: an event the facilitator
tagged with the criterion (``--meets C2``), or an explicit mapping written in the
scenario::

    - id: ic-named
      text: Incident commander identified
      by: 5m
      evidence: {event: role_assigned, role: incident_commander}

Words in the sentence ("contain", "scope") only *suggest* which logged event might be
the evidence (:attr:`Criterion.suggested`): a decision "Rotate vendor API tokens" must
not meet "Exfiltrated data scoped to tool calls" because both share a phase.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from drillbook.documents.durations import DurationText, minutes
from drillbook.domain.scenario.enums import EvidenceEvent, Phase

_UNIT_MINUTES = {
    "s": 1 / 60,
    "sec": 1 / 60,
    "second": 1 / 60,
    "seconds": 1 / 60,
    "m": 1,
    "min": 1,
    "mins": 1,
    "minute": 1,
    "minutes": 1,
    "h": 60,
    "hr": 60,
    "hrs": 60,
    "hour": 60,
    "hours": 60,
}
_WITHIN = re.compile(
    r"\b(?:within|in under|in less than|under|inside)\s+(\d+(?:\.\d+)?)\s*"
    r"(s|sec|seconds?|m|mins?|minutes?|h|hrs?|hours?)\b",
    re.IGNORECASE,
)
_TPLUS = re.compile(
    r"\b(?:by|at|before)\s+t\s*\+\s*(\d+(?:\.\d+)?)\s*(m|min|minutes|h|hours?)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _EvidenceRule:
    """Words that tie a criterion to the timeline evidence that meets it."""

    pattern: re.Pattern[str]
    event: EvidenceEvent
    role: str | None = None
    phase: Phase | None = None
    by_word: bool = False
    """Criteria about establishing facts ("Data scope quantified by t+60") are met by a
    decision that says so, whatever the phase: the matched word must appear in it."""


# Order matters: the first match wins, most specific first.
_EVIDENCE_RULES = (
    _EvidenceRule(
        re.compile(r"incident (commander|lead)|\bic\b", re.I),
        EvidenceEvent.ROLE_ASSIGNED,
        role="incident_commander",
    ),
    _EvidenceRule(
        re.compile(r"comms lead|communications lead", re.I),
        EvidenceEvent.ROLE_ASSIGNED,
        role="comms_lead",
    ),
    _EvidenceRule(
        re.compile(r"contain|offline|quarantin|revok|disable|isolat|pause", re.I),
        EvidenceEvent.DECISION,
        phase=Phase.CONTAINMENT,
    ),
    _EvidenceRule(
        re.compile(r"comms|communicat|notif|customer|message|statement|regulator", re.I),
        EvidenceEvent.DECISION,
        phase=Phase.COMMUNICATION,
    ),
    _EvidenceRule(
        re.compile(r"scope|quantif|confirm|identif|detect|triage|root cause", re.I),
        EvidenceEvent.DECISION,
        by_word=True,
    ),
    _EvidenceRule(
        re.compile(r"fix|owner|remediat|review|lesson", re.I),
        EvidenceEvent.DECISION,
        phase=Phase.POST_INCIDENT_REVIEW,
    ),
    _EvidenceRule(re.compile(r"document|record|log", re.I), EvidenceEvent.NOTE),
)


class Evidence(BaseModel):
    """What on the timeline meets a criterion."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event: EvidenceEvent
    role: str | None = None
    phase: Phase | None = None
    contains: str | None = Field(
        default=None, description="Text the event must contain (case-insensitive)."
    )


class Criterion(BaseModel):
    """A success criterion in structured form."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$",
        description="Short name to tag evidence with (default: C1, C2, ... in list order).",
    )
    text: str
    by: DurationText | None = Field(
        default=None, description="Deadline from the exercise start, e.g. 5m or 1h."
    )
    evidence: Evidence | None = Field(
        default=None,
        description="Timeline events that meet this criterion without tagging (explicit "
        "mapping); without it only events tagged with the criterion count.",
    )

    @property
    def deadline_minutes(self) -> float | None:
        return minutes(self.by) if self.by else None

    @property
    def suggested(self) -> Evidence | None:
        """The evidence the sentence's words point at: shown as a hint, never scored."""
        return self.evidence or guess_evidence(self.text)

    @property
    def measurable(self) -> bool:
        """True when the scenario or the sentence says what on the timeline meets it
        (tagging can still meet any criterion)."""
        return self.suggested is not None


_LONGEST_MINUTES = timedelta.max.days * 24 * 60 // 2
"""A deadline beyond this is no deadline: ``timedelta`` (so ``by``) could not hold it."""


def _deadline(text: str) -> float | None:
    found = _WITHIN.search(text)
    if found:
        value = float(found.group(1)) * _UNIT_MINUTES[found.group(2).lower()]
    elif found := _TPLUS.search(text):
        unit = (found.group(2) or "m").lower()
        value = float(found.group(1)) * _UNIT_MINUTES.get(unit, 1)
    else:
        return None
    return value if value <= _LONGEST_MINUTES else None


def _format_minutes(value: float) -> str:
    if value == int(value):
        return f"{int(value)}m"
    return f"{round(value * 60)}s"


def guess_evidence(text: str) -> Evidence | None:
    """The evidence the first matching rule names, or None when no word ties ``text`` to
    the timeline (lint then calls the criterion unmeasurable)."""
    for rule in _EVIDENCE_RULES:
        found = rule.pattern.search(text)
        if found and rule.by_word:
            return Evidence(event=rule.event, contains=found.group(0).lower())
        if found:
            return Evidence(event=rule.event, role=rule.role, phase=rule.phase)
    return None


def parse_criterion(text: str) -> Criterion:
    """Structure a criterion sentence. Never fails: unparsed parts are simply absent.
    The evidence stays unset: guessed words suggest, they never decide."""
    deadline = _deadline(text)
    return Criterion(
        text=text.strip(), by=_format_minutes(deadline) if deadline is not None else None
    )
