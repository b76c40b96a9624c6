"""Closed vocabularies of the scenario schema."""

from __future__ import annotations

from enum import StrEnum


class Phase(StrEnum):
    """The four phases every tabletop walks through, in order (first seed)."""

    DETECTION = "detection"
    CONTAINMENT = "containment"
    COMMUNICATION = "communication"
    POST_INCIDENT_REVIEW = "post_incident_review"

    @property
    def label(self) -> str:
        return _PHASE_LABELS[self]


PHASE_ORDER: tuple[Phase, ...] = tuple(Phase)
PHASE_SHORT_NAMES: dict[str, Phase] = {
    "detect": Phase.DETECTION,
    "contain": Phase.CONTAINMENT,
    "comms": Phase.COMMUNICATION,
    "communicate": Phase.COMMUNICATION,
    "review": Phase.POST_INCIDENT_REVIEW,
    "pir": Phase.POST_INCIDENT_REVIEW,
}
"""Short names a facilitator types (``review`` for ``post_incident_review``): the CLI,
the console and the web accept the same ones, and help lists them."""


def parse_phase(text: str) -> Phase:
    """The phase ``text`` names: a value (``post_incident_review``), its label
    (``Post-incident review``) or a short name (``review``). ValueError names them all."""
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    if key in PHASE_SHORT_NAMES:
        return PHASE_SHORT_NAMES[key]
    try:
        return Phase(key)
    except ValueError:
        names = ", ".join([p.value for p in Phase] + list(PHASE_SHORT_NAMES))
        raise ValueError(f"unknown phase '{text}'; use one of: {names}") from None


_PHASE_LABELS = {
    Phase.DETECTION: "Detection",
    Phase.CONTAINMENT: "Containment",
    Phase.COMMUNICATION: "Communication",
    Phase.POST_INCIDENT_REVIEW: "Post-incident review",
}


class Category(StrEnum):
    """Incident types from both seeds: the three agent incidents and the classic ones."""

    WRONG_TEAM_DATA_EXPOSURE = "wrong_team_data_exposure"
    IMPROPER_TOOL_FIRE = "improper_tool_fire"
    PROMPT_INJECTION = "prompt_injection"
    DATA_EXFILTRATION = "data_exfiltration"
    RANSOMWARE = "ransomware"
    INSIDER = "insider"
    SUPPLY_CHAIN = "supply_chain"
    THIRD_PARTY_BREACH = "third_party_breach"
    REGULATOR_INQUIRY = "regulator_inquiry"
    CREDENTIAL_LEAK = "credential_leak"
    CI_PIPELINE_COMPROMISE = "ci_pipeline_compromise"
    BUSINESS_EMAIL_COMPROMISE = "business_email_compromise"
    ACCOUNT_TAKEOVER = "account_takeover"
    DENIAL_OF_SERVICE = "denial_of_service"
    CLOUD_MISCONFIGURATION = "cloud_misconfiguration"
    VULNERABILITY_DISCLOSURE = "vulnerability_disclosure"
    DETECTION_FAILURE = "detection_failure"
    OTHER = "other"

    @property
    def is_agent_incident(self) -> bool:
        return self in AGENT_CATEGORIES


AGENT_CATEGORIES = frozenset(
    {Category.WRONG_TEAM_DATA_EXPOSURE, Category.IMPROPER_TOOL_FIRE, Category.PROMPT_INJECTION}
)


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Higher is worse: critical 4 .. low 1."""
        return {"critical": 4, "high": 3, "medium": 2, "low": 1}[self.value]


class Difficulty(StrEnum):
    """How hard a scenario is; a first tabletop should pick a gentle one (first seed)."""

    GENTLE = "gentle"
    STANDARD = "standard"
    HARD = "hard"

    @property
    def rank(self) -> int:
        return {"gentle": 1, "standard": 2, "hard": 3}[self.value]


ROLE_ALIASES: dict[str, str] = {
    "incident_lead": "incident_commander",
    "ic": "incident_commander",
    "comms": "comms_lead",
    "communications_lead": "comms_lead",
    "tech_lead": "technical_lead",
}
"""Spellings of the same seat: the first seed calls the person running the response the
*Incident Lead*, the second the *incident commander*; likewise ``comms``/``comms_lead``
and ``tech_lead``/``technical_lead``. One table, so that lint, planning and scoring agree."""


def canonical_role(role: str) -> str:
    """The seat ``role`` names, so that ``Incident-Lead`` and ``incident_commander`` match."""
    key = role.strip().lower().replace("-", "_").replace(" ", "_")
    return ROLE_ALIASES.get(key, key)


class ScenarioKind(StrEnum):
    TABLETOP = "tabletop"


class EvidenceEvent(StrEnum):
    """Timeline events a success criterion can be measured against."""

    ROLE_ASSIGNED = "role_assigned"
    DECISION = "decision"
    PHASE_STARTED = "phase_started"
    NOTE = "note"
    OBSERVATION = "observation"
