"""Guess a finding's capability and change type from its words, and map scenarios to the
capabilities they exercise.

Guesses only fill blanks: a value the user gave always wins, and a guessed value is
marked as inferred so that export writes back only what the user wrote. A finding's
capability comes, in this order, from the explicit field, from the gap's words matched
against the vocabulary below (every capability the built-in library exercises, with the
synonyms people write: "open egress" is access isolation, "dependency bot auto-merges"
is change review), or from its scenario's tags and category. :func:`capability_for`
says which, and ``finding rank`` shows it. The tables here are documented in
docs/findings.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from drillbook.domain.finding.enums import Capability, ChangeType
from drillbook.domain.scenario.enums import Category

if TYPE_CHECKING:  # the pydantic models cost a tenth of a second to import
    from drillbook.domain.scenario.models import Scenario

# First match wins; most specific first.
CAPABILITY_WORDS: tuple[tuple[Capability, re.Pattern[str]], ...] = (
    (
        Capability.ON_CALL,
        re.compile(
            r"incident (commander|lead)|on-?call|rotation|pager ?duty|\bpage\b|who do you wake|"
            r"escalation (path|contact)|nobody (answered|picked up)|after[- ]hours|"
            r"weekend coverage|\bpaged\b",
            re.I,
        ),
    ),
    (
        Capability.REGULATOR_NOTIFICATION,
        re.compile(
            r"regulat|jurisdiction|notification requirement|breach notif|\bgdpr\b|72 ?h", re.I
        ),
    ),
    (
        Capability.CREDENTIAL_REVOCATION,
        re.compile(
            r"revok|credential|api key|\bkeys?\b|token|rotate secret|\bsecrets?\b|password|"
            r"service account|certificate|\bsessions?\b",
            re.I,
        ),
    ),
    (
        Capability.AUDIT_LOG_ACCESS,
        re.compile(
            r"audit[- ]?(log|trail)|log access|pull the logs?|log retention|"
            r"logs? (were|are|was|is) (missing|not (kept|retained))|cloudtrail|forensic",
            re.I,
        ),
    ),
    (
        Capability.APPROVAL_GATES,
        re.compile(
            r"approv|human in the loop|sign-?off|two-person|four[- ]eyes|confirmation step",
            re.I,
        ),
    ),
    (
        Capability.CUSTOMER_COMMS,
        re.compile(
            r"customer|comms|communicat|\bpress\b|statement|tweet|status page|journalist|"
            r"public (disclosure|message)",
            re.I,
        ),
    ),
    (
        Capability.CHANGE_REVIEW,
        re.compile(
            r"bypass(ed)? (full )?review|code review|change review|dependency update|"
            r"auto-?merg|dependabot|renovate|dependency bot|unreviewed|merged without|"
            r"branch protection|unpinned|pull requests?",
            re.I,
        ),
    ),
    (
        Capability.DETECTION,
        re.compile(
            r"detect|\brule\b|alert|sigma|siem|muted|fired|telemetry|monitor|no visibility|"
            r"blind spot|log source|\bedr\b",
            re.I,
        ),
    ),
    (
        Capability.RUNBOOK,
        re.compile(r"runbook|procedure|playbook|improvis|checklist|no plan\b|ad[- ]hoc", re.I),
    ),
    (
        Capability.DATA_SCOPING,
        re.compile(
            r"scope|quantif|what data|exfiltrat|blast radius|data inventory|classification",
            re.I,
        ),
    ),
    (
        Capability.ACCESS_ISOLATION,
        re.compile(
            r"isolation|wrong team|multi-?team|tenant|egress|firewall|segment|network polic|"
            r"least privilege|over-?privileg|broad access|public bucket|shared account",
            re.I,
        ),
    ),
    (
        Capability.CONTAINMENT,
        re.compile(
            r"offline|quarantin|shut ?down|contain|disable|kill switch|\bblock|take down|"
            r"isolate the host",
            re.I,
        ),
    ),
)

CHANGE_TYPE_WORDS: tuple[tuple[ChangeType, re.Pattern[str]], ...] = (
    (
        ChangeType.TRAINING,
        re.compile(r"train|practi[cs]e|onboard|rehears|tabletop|teach|awareness|walkthrough", re.I),
    ),
    (
        ChangeType.CONFIGURATION,
        re.compile(
            r"re-?enable|configur|setting|\brule\b|query|threshold|severity|integrat|wire|"
            r"pager ?duty|field|alert",
            re.I,
        ),
    ),
    (
        ChangeType.POLICY,
        re.compile(
            r"policy|procedure|runbook|rotation|decision tree|approval|document|process|"
            r"establish|authority|owner",
            re.I,
        ),
    ),
)

# Categories -> the capabilities a scenario of that category makes the team use.
# Every tabletop needs an incident commander and a runbook; these are added to all.
CATEGORY_CAPABILITIES: dict[Category, frozenset[Capability]] = {
    Category.WRONG_TEAM_DATA_EXPOSURE: frozenset(
        {
            Capability.ACCESS_ISOLATION,
            Capability.AUDIT_LOG_ACCESS,
            Capability.CUSTOMER_COMMS,
            Capability.DATA_SCOPING,
        }
    ),
    Category.IMPROPER_TOOL_FIRE: frozenset(
        {
            Capability.APPROVAL_GATES,
            Capability.AUDIT_LOG_ACCESS,
            Capability.CONTAINMENT,
            Capability.CREDENTIAL_REVOCATION,
        }
    ),
    Category.PROMPT_INJECTION: frozenset(
        {
            Capability.DETECTION,
            Capability.AUDIT_LOG_ACCESS,
            Capability.CUSTOMER_COMMS,
            Capability.CONTAINMENT,
        }
    ),
    Category.DATA_EXFILTRATION: frozenset(
        {
            Capability.DETECTION,
            Capability.DATA_SCOPING,
            Capability.CONTAINMENT,
            Capability.CUSTOMER_COMMS,
            Capability.REGULATOR_NOTIFICATION,
        }
    ),
    Category.RANSOMWARE: frozenset(
        {
            Capability.CONTAINMENT,
            Capability.DETECTION,
            Capability.CUSTOMER_COMMS,
            Capability.REGULATOR_NOTIFICATION,
        }
    ),
    Category.INSIDER: frozenset(
        {Capability.AUDIT_LOG_ACCESS, Capability.CREDENTIAL_REVOCATION, Capability.DATA_SCOPING}
    ),
    Category.SUPPLY_CHAIN: frozenset(
        {Capability.CHANGE_REVIEW, Capability.CONTAINMENT, Capability.DETECTION}
    ),
    Category.THIRD_PARTY_BREACH: frozenset(
        {
            Capability.CREDENTIAL_REVOCATION,
            Capability.CUSTOMER_COMMS,
            Capability.DATA_SCOPING,
            Capability.REGULATOR_NOTIFICATION,
        }
    ),
    Category.REGULATOR_INQUIRY: frozenset(
        {Capability.REGULATOR_NOTIFICATION, Capability.AUDIT_LOG_ACCESS}
    ),
    Category.CREDENTIAL_LEAK: frozenset(
        {Capability.CREDENTIAL_REVOCATION, Capability.AUDIT_LOG_ACCESS, Capability.DETECTION}
    ),
    Category.CI_PIPELINE_COMPROMISE: frozenset(
        {Capability.CHANGE_REVIEW, Capability.CREDENTIAL_REVOCATION, Capability.CONTAINMENT}
    ),
    Category.BUSINESS_EMAIL_COMPROMISE: frozenset(
        {Capability.CREDENTIAL_REVOCATION, Capability.CUSTOMER_COMMS, Capability.DETECTION}
    ),
    Category.ACCOUNT_TAKEOVER: frozenset(
        {Capability.CREDENTIAL_REVOCATION, Capability.AUDIT_LOG_ACCESS, Capability.CUSTOMER_COMMS}
    ),
    Category.DENIAL_OF_SERVICE: frozenset({Capability.CONTAINMENT, Capability.CUSTOMER_COMMS}),
    Category.CLOUD_MISCONFIGURATION: frozenset(
        {Capability.ACCESS_ISOLATION, Capability.DATA_SCOPING, Capability.DETECTION}
    ),
    Category.VULNERABILITY_DISCLOSURE: frozenset(
        {Capability.CUSTOMER_COMMS, Capability.CHANGE_REVIEW}
    ),
    Category.DETECTION_FAILURE: frozenset({Capability.DETECTION}),
    Category.OTHER: frozenset(),
}
ALWAYS_EXERCISED = frozenset({Capability.ON_CALL, Capability.RUNBOOK})


# Scenario tags (ATT&CK, OWASP LLM) -> the capability a gap in such a scenario most
# likely sits in, when the gap's own words say nothing.
TAG_CAPABILITIES: dict[str, Capability] = {
    "T1567": Capability.DATA_SCOPING,  # exfiltration over web service
    "T1041": Capability.DATA_SCOPING,  # exfiltration over C2
    "T1048": Capability.ACCESS_ISOLATION,  # exfiltration over another protocol (egress)
    "T1078": Capability.CREDENTIAL_REVOCATION,  # valid accounts
    "T1552": Capability.CREDENTIAL_REVOCATION,  # unsecured credentials
    "T1195": Capability.CHANGE_REVIEW,  # supply chain compromise
    "T1486": Capability.CONTAINMENT,  # data encrypted for impact
    "T1562": Capability.DETECTION,  # impair defenses
    "LLM01": Capability.APPROVAL_GATES,  # prompt injection
    "LLM06": Capability.APPROVAL_GATES,  # excessive agency
}
_PRIORITY = [capability for capability, _ in CAPABILITY_WORDS]
# The same patterns for ASCII text already lowered: matching case-insensitively was three
# times slower (a tenth of a second for the built-in scenarios, on every `finding rank`),
# and on ASCII text it finds the same (the patterns are written in lower case; only
# letters outside ASCII fold case in other ways, and such text keeps the patterns above).
_LOWERED_WORDS = tuple(
    (capability, re.compile(pattern.pattern, pattern.flags & ~re.IGNORECASE))
    if pattern.pattern == pattern.pattern.lower()
    else (capability, pattern)
    for capability, pattern in CAPABILITY_WORDS
)


@dataclass(frozen=True)
class CapabilityMatch:
    """A capability and where it came from: ``explicit``, ``vocabulary`` (``term`` is the
    words matched) or ``scenario`` (``term`` is the tag or category)."""

    capability: Capability
    source: str
    term: str

    @property
    def why(self) -> str:
        if self.source == "explicit":
            return "explicit"
        return f"{self.source}: {self.term}"


def match_capability(text: str) -> CapabilityMatch | None:
    """The first vocabulary entry found in ``text``, with the words that matched."""
    for capability, pattern in CAPABILITY_WORDS:
        found = pattern.search(text)
        if found:
            return CapabilityMatch(capability, "vocabulary", found.group(0).lower())
    return None


def guess_capability(text: str) -> Capability | None:
    found = match_capability(text)
    return found.capability if found else None


def scenario_capability(scenario: Scenario) -> CapabilityMatch | None:
    """A scenario's own capability: from its tags first, then its category (the first of
    the category's capabilities in vocabulary order)."""
    for tag in scenario.tags:
        key = tag.strip().upper().split(".")[0]
        if key in TAG_CAPABILITIES:
            return CapabilityMatch(TAG_CAPABILITIES[key], "scenario", f"tag {tag}")
    if scenario.category is not None:
        options = CATEGORY_CAPABILITIES.get(scenario.category, frozenset())
        for capability in _PRIORITY:
            if capability in options:
                return CapabilityMatch(
                    capability, "scenario", f"category {scenario.category.value}"
                )
    return None


def capability_for(
    explicit: Capability | None, words: str, scenario: Scenario | None
) -> CapabilityMatch | None:
    """Explicit field, else the vocabulary, else the scenario's tags and category."""
    if explicit is not None:
        return CapabilityMatch(explicit, "explicit", str(explicit))
    return match_capability(words) or (scenario_capability(scenario) if scenario else None)


def guess_change_type(text: str) -> ChangeType | None:
    for change_type, pattern in CHANGE_TYPE_WORDS:
        if pattern.search(text):
            return change_type
    return None


def _scenario_text(scenario: Scenario) -> str:
    parts = [scenario.title, scenario.initial_state, scenario.summary or ""]
    parts += [i.description for i in scenario.injects]
    parts += list(scenario.discussion_questions)
    parts += [c.text for c in scenario.criteria]
    return "\n".join(parts)


def scenario_capabilities(scenario: Scenario) -> frozenset[Capability]:
    """Capabilities a scenario exercises: its category's, every capability whose words
    appear in its injects, questions and criteria, and the two every tabletop uses."""
    found = set(ALWAYS_EXERCISED)
    if scenario.category is not None:
        found |= CATEGORY_CAPABILITIES.get(scenario.category, frozenset())
    text = _scenario_text(scenario)
    patterns = CAPABILITY_WORDS
    if text.isascii():
        text, patterns = text.lower(), _LOWERED_WORDS
    for capability, pattern in patterns:
        if pattern.search(text):
            found.add(capability)
    return frozenset(found)
