"""Notification clocks for the regulated-industry variation (first seed: "rehearse the
notification clock ... mistiming a regulatory notice is its own incident").

Each clock starts at a trigger the law defines (awareness, detection, classification,
materiality determination, discovery); the script puts the clocks on the timeline from
T+0, which is when the team became aware in the rehearsal. Deadlines are computed from a
start time when one is known (``exercise brief --date``); otherwise they are shown as
offsets. These are rehearsal aids, not legal advice: the docstrings name the article
so that counsel can check the reading.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from drillbook.errors import ConfigError


class Jurisdiction(StrEnum):
    GDPR = "GDPR"
    NIS2 = "NIS2"
    SEC = "SEC"
    HIPAA = "HIPAA"
    NYDFS = "NYDFS"
    DORA = "DORA"
    EU_AI_ACT = "EU_AI_ACT"


@dataclass(frozen=True)
class NotificationClock:
    """One deadline: ``offset`` after the trigger, or ``business_days`` after it."""

    jurisdiction: Jurisdiction
    label: str
    trigger: str
    source: str
    offset: timedelta | None = None
    business_days: int | None = None
    months: int | None = None

    @property
    def offset_text(self) -> str:
        if self.business_days is not None:
            return f"{self.business_days} business days"
        if self.months is not None:
            return f"{self.months} month" + ("s" if self.months != 1 else "")
        assert self.offset is not None
        hours = self.offset.total_seconds() / 3600
        if hours % 24 == 0 and hours >= 48 and hours != 72:
            return f"{int(hours // 24)} days"
        return f"{int(hours)}h"

    def due(self, start: datetime) -> datetime:
        """The deadline when the trigger happened at ``start``."""
        if self.business_days is not None:
            return add_business_days(start, self.business_days)
        if self.months is not None:
            return add_months(start, self.months)
        assert self.offset is not None
        return start + self.offset


def add_business_days(start: datetime, days: int) -> datetime:
    """``days`` business days after ``start``, skipping Saturdays and Sundays.

    Public holidays are not skipped (they differ by market); the script says so.
    """
    current = start
    left = days
    while left > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def add_months(start: datetime, months: int) -> datetime:
    """Same day ``months`` later, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return start.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable: every month has 28 days")


def _h(hours: int) -> timedelta:
    return timedelta(hours=hours)


def _gdpr() -> list[NotificationClock]:
    """GDPR (Regulation (EU) 2016/679) Art. 33(1): notify the supervisory authority without
    undue delay and, where feasible, not later than 72 hours after becoming aware."""
    return [
        NotificationClock(
            Jurisdiction.GDPR,
            "Notify the supervisory authority",
            "becoming aware of the personal-data breach",
            "GDPR Art. 33(1)",
            offset=_h(72),
        )
    ]


def _nis2() -> list[NotificationClock]:
    """NIS2 (Directive (EU) 2022/2555) Art. 23(4): early warning within 24 hours of becoming
    aware of a significant incident (a); incident notification within 72 hours (b); final
    report within one month after the incident notification (d)."""
    trigger = "becoming aware of the significant incident"
    return [
        NotificationClock(
            Jurisdiction.NIS2,
            "Early warning to the CSIRT/authority",
            trigger,
            "NIS2 Art. 23(4)(a)",
            offset=_h(24),
        ),
        NotificationClock(
            Jurisdiction.NIS2, "Incident notification", trigger, "NIS2 Art. 23(4)(b)", offset=_h(72)
        ),
        NotificationClock(
            Jurisdiction.NIS2,
            "Final report",
            trigger + " (counted here from awareness; the law counts from the notification)",
            "NIS2 Art. 23(4)(d)",
            months=1,
        ),
    ]


def _sec() -> list[NotificationClock]:
    """SEC Form 8-K Item 1.05 (17 CFR 229.106 and Form 8-K General Instruction B.1): file
    within four business days after determining that the cybersecurity incident is
    material."""
    return [
        NotificationClock(
            Jurisdiction.SEC,
            "File Form 8-K Item 1.05",
            "determining the incident is material",
            "SEC Form 8-K Item 1.05",
            business_days=4,
        )
    ]


def _hipaa() -> list[NotificationClock]:
    """HIPAA Breach Notification Rule, 45 CFR 164.404(b): notify affected individuals
    without unreasonable delay and no later than 60 calendar days after discovery
    (164.406 media and 164.408 HHS notices for 500+ individuals follow the same clock)."""
    return [
        NotificationClock(
            Jurisdiction.HIPAA,
            "Notify affected individuals (and HHS for 500+)",
            "discovery of the breach",
            "45 CFR 164.404(b)",
            offset=timedelta(days=60),
        )
    ]


def _nydfs() -> list[NotificationClock]:
    """NYDFS Cybersecurity Regulation, 23 NYCRR 500.17(a): notify the superintendent as
    promptly as possible but no later than 72 hours after determining that a cybersecurity
    incident occurred."""
    return [
        NotificationClock(
            Jurisdiction.NYDFS,
            "Notify the NYDFS superintendent",
            "determining a cybersecurity incident occurred",
            "23 NYCRR 500.17(a)",
            offset=_h(72),
        )
    ]


def _dora() -> list[NotificationClock]:
    """DORA (Regulation (EU) 2022/2554) Art. 19(4), with the RTS on incident reporting
    (Commission Delegated Regulation (EU) 2025/301) Art. 5: initial notification within
    4 hours of classifying the incident as major and no later than 24 hours after
    detection; intermediate report within 72 hours of the initial notification; final
    report within one month of the latest intermediate report. The clocks here count
    from T+0 (detection, classified at once)."""
    trigger = "classification as major (counted from detection here)"
    return [
        NotificationClock(
            Jurisdiction.DORA,
            "Initial notification (4h after classification)",
            trigger,
            "DORA Art. 19(4); RTS Art. 5(1)(a)",
            offset=_h(4),
        ),
        NotificationClock(
            Jurisdiction.DORA,
            "Initial notification, latest (24h after detection)",
            "detection",
            "DORA Art. 19(4); RTS Art. 5(1)(a)",
            offset=_h(24),
        ),
        NotificationClock(
            Jurisdiction.DORA,
            "Intermediate report",
            "initial notification",
            "DORA Art. 19(4)(b); RTS Art. 5(1)(b)",
            offset=_h(72),
        ),
        NotificationClock(
            Jurisdiction.DORA,
            "Final report",
            "intermediate report",
            "DORA Art. 19(4)(c); RTS Art. 5(1)(c)",
            months=1,
        ),
    ]


def _ai_act() -> list[NotificationClock]:
    """EU AI Act (Regulation (EU) 2024/1689) Art. 73: serious incidents of high-risk AI
    systems are reported immediately after the causal link is established and not later
    than 15 days after awareness (73(2)); 2 days for a widespread infringement or a serious
    disruption of critical infrastructure (73(3)); 10 days in the event of a death
    (73(4))."""
    trigger = "becoming aware of the serious incident"
    return [
        NotificationClock(
            Jurisdiction.EU_AI_ACT,
            "Serious incident: widespread or critical infrastructure",
            trigger,
            "EU AI Act Art. 73(3)",
            offset=timedelta(days=2),
        ),
        NotificationClock(
            Jurisdiction.EU_AI_ACT,
            "Serious incident: death of a person",
            trigger,
            "EU AI Act Art. 73(4)",
            offset=timedelta(days=10),
        ),
        NotificationClock(
            Jurisdiction.EU_AI_ACT,
            "Serious incident: general",
            trigger,
            "EU AI Act Art. 73(2)",
            offset=timedelta(days=15),
        ),
    ]


_CLOCKS = {
    Jurisdiction.GDPR: _gdpr,
    Jurisdiction.NIS2: _nis2,
    Jurisdiction.SEC: _sec,
    Jurisdiction.HIPAA: _hipaa,
    Jurisdiction.NYDFS: _nydfs,
    Jurisdiction.DORA: _dora,
    Jurisdiction.EU_AI_ACT: _ai_act,
}
_ALIASES = {
    "SEC-8K": "SEC",
    "8-K": "SEC",
    "AI-ACT": "EU_AI_ACT",
    "AI_ACT": "EU_AI_ACT",
    "EU-AI-ACT": "EU_AI_ACT",
}


def parse_jurisdiction(text: str) -> Jurisdiction:
    """``gdpr``, ``NIS2``, ``sec-8k``, ``eu-ai-act`` ... as a :class:`Jurisdiction`."""
    key = text.strip().upper()
    key = _ALIASES.get(key, key).replace("-", "_")
    try:
        return Jurisdiction(key)
    except ValueError:
        known = ", ".join(j.value for j in Jurisdiction)
        raise ConfigError(f"unknown jurisdiction '{text}' (known: {known})") from None


def clocks_for(jurisdictions: list[Jurisdiction]) -> list[NotificationClock]:
    """Every clock of ``jurisdictions``, in the order given, without duplicates."""
    out: list[NotificationClock] = []
    for jurisdiction in dict.fromkeys(jurisdictions):
        out.extend(_CLOCKS[jurisdiction]())
    return out
