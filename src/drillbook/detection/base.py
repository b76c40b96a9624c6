"""The detection backend interface: did this rule fire, when, and how severely?

A drill is only a pass when the detection fires, so every backend answers one question
for one rule and one time window: *did the rule fire between t0 and t1 for the events
tied to this drill, when, and with what severity?* The answer has three outcomes, not
two, because "no logs arrived" and "logs arrived but no rule fired" need different
fixes (a broken pipeline versus a broken rule)::

    Verdict.NO_EVENTS   nothing was ingested for the window: the telemetry is missing
    Verdict.NOT_FIRED   events arrived, the rule did not fire: the detection is broken
    Verdict.FIRED       the rule fired; ``alerts`` say when and with which severity

SIEMs ingest with a delay, so :meth:`DetectionBackend.wait_for` polls
:meth:`DetectionBackend.check_once` until the rule fires or a deadline passes.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from drillbook import clock
from drillbook.errors import AdapterError

SEVERITY_ORDER = ("informational", "low", "medium", "high", "critical")


class Verdict(StrEnum):
    FIRED = "fired"
    NOT_FIRED = "not_fired"
    NO_EVENTS = "no_events"


@dataclass(frozen=True)
class RuleRef:
    """What to look for: a Sigma rule (by file) and/or a native query, and its identity.

    ``title`` and ``rule_id`` are how SIEM alerts name the rule; ``query`` is a native
    query (SPL, KQL, LogQL, Lucene) that replaces the Sigma conversion when given.
    """

    title: str | None = None
    rule_id: str | None = None
    sigma_path: Path | None = None
    query: str | None = None
    level: str | None = None

    @property
    def label(self) -> str:
        if self.sigma_path is not None:
            return str(self.sigma_path)
        return self.title or self.rule_id or self.query or "<rule>"


@dataclass(frozen=True)
class Window:
    """The time window and the drill scope the events must belong to."""

    start: datetime
    end: datetime
    drill_run_id: str | None = None
    technique_run_id: str | None = None
    host: str | None = None
    include_runner: bool = False

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("detection windows take aware UTC datetimes")
        if self.end < self.start:
            raise ValueError(f"window ends ({self.end}) before it starts ({self.start})")


@dataclass(frozen=True)
class Alert:
    """One firing of the rule: when, how severe, and when a human acknowledged it."""

    time: datetime
    severity: str | None
    rule: str
    alert_id: str | None = None
    status: str | None = None
    acknowledged_at: datetime | None = None
    event: dict[str, Any] | None = None


@dataclass(frozen=True)
class DetectionResult:
    verdict: Verdict
    rule: RuleRef
    backend: str
    alerts: tuple[Alert, ...] = ()
    events_seen: int = 0
    matching_events: int | None = None
    detail: str = ""
    polls: int = 1
    query: str | None = None

    @property
    def fired(self) -> bool:
        return self.verdict is Verdict.FIRED

    @property
    def first_alert_at(self) -> datetime | None:
        return min((a.time for a in self.alerts), default=None)

    @property
    def fired_severity(self) -> str | None:
        """The severity of the first alert (the one a responder would have seen first)."""
        if not self.alerts:
            return None
        return min(self.alerts, key=lambda a: a.time).severity

    @property
    def acknowledged_at(self) -> datetime | None:
        return min((a.acknowledged_at for a in self.alerts if a.acknowledged_at), default=None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict.value,
            "rule": self.rule.label,
            "title": self.rule.title,
            "rule_id": self.rule.rule_id,
            "backend": self.backend,
            "events_seen": self.events_seen,
            "matching_events": self.matching_events,
            "first_alert_at": self.first_alert_at,
            "fired_severity": self.fired_severity,
            "acknowledged_at": self.acknowledged_at,
            "alerts": len(self.alerts),
            "polls": self.polls,
            "detail": self.detail,
        }


def normalise_severity(value: object) -> str | None:
    """Map the many spellings SIEMs use onto Sigma's levels (``informational`` .. ``critical``)."""
    if value is None or value == "":
        return None
    text = str(value).strip().lower()
    aliases = {
        "info": "informational",
        "information": "informational",
        "informational": "informational",
        "1": "informational",
        "low": "low",
        "2": "low",
        "medium": "medium",
        "moderate": "medium",
        "3": "medium",
        "high": "high",
        "4": "high",
        "critical": "critical",
        "5": "critical",
        "p1": "critical",
        "p2": "high",
        "p3": "medium",
        "p4": "low",
        "p5": "informational",
    }
    return aliases.get(text, text)


Sleeper = Callable[[float], Any]


class DetectionBackend(ABC):
    """A place where detections run: the local Sigma engine or a SIEM.

    Implementations are found by name through the ``drillbook.detection`` entry points
    (see :mod:`drillbook.detection.registry`), so a user's own backend installs as a
    package.
    """

    name: ClassVar[str] = "backend"

    @abstractmethod
    def check_once(self, rule: RuleRef, window: Window) -> DetectionResult:
        """Ask once, without waiting for ingestion."""

    def convert(self, rule_text: str) -> str:
        """The backend's native query for a Sigma rule (``detect convert``)."""
        raise AdapterError(self.name, "convert", "this backend does not convert Sigma rules")

    def wait_for(
        self,
        rule: RuleRef,
        window: Window,
        *,
        deadline: datetime | None = None,
        poll_interval: float = 5.0,
        sleep: Sleeper | None = None,
    ) -> DetectionResult:
        """Poll until the rule fires or ``deadline`` passes; return the last answer.

        The deadline allows for ingestion delay: a SIEM may index events minutes after
        they happened. Without a deadline the backend is asked exactly once.
        """
        pause = sleep or time.sleep
        polls = 0
        while True:
            polls += 1
            result = self.check_once(rule, window)
            now = clock.now()
            if result.fired or deadline is None or now >= deadline:
                return replace(result, polls=polls)
            remaining = (deadline - now).total_seconds()
            pause(max(0.0, min(poll_interval, remaining)))

    def check_many(self, rules: Sequence[RuleRef], window: Window) -> list[DetectionResult]:
        """Check several rules over one window; backends that can batch override this."""
        return [self.check_once(rule, window) for rule in rules]

    def close(self) -> None:
        """Release what the backend holds (an HTTP connection pool, an SQLite database)."""
        return None
