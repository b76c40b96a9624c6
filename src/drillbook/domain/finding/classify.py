"""Guess a finding's capability and change type from its words, and map scenarios to the
capabilities they exercise.

Guesses only fill blanks: a value the user gave always wins, and a guessed value is
marked as inferred so that export writes back only what the user wrote. The tables here
are the documented mapping used by ranking (docs/findings.md).
"""

from __future__ import annotations

import re

from drillbook.domain.finding.enums import Capability, ChangeType
from drillbook.domain.scenario.enums import Category
from drillbook.domain.scenario.models import Scenario

# First match wins; most specific first.
CAPABILITY_WORDS: tuple[tuple[Capability, re.Pattern[str]], ...] = (
    (
        Capability.ON_CALL,
        re.compile(
            r"incident (commander|lead)|on-?call|rotation|pager ?duty|\bpage\b|who do you wake",
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
        re.compile(r"revok|credential|api key|\bkeys?\b|token|rotate secret", re.I),
    ),
    (Capability.AUDIT_LOG_ACCESS, re.compile(r"audit[- ]?log|log access|pull the logs?", re.I)),
    (Capability.APPROVAL_GATES, re.compile(r"approval|human in the loop|sign-?off", re.I)),
    (
        Capability.CUSTOMER_COMMS,
        re.compile(r"customer|comms|communicat|\bpress\b|statement|tweet|status page", re.I),
    ),
    (
        Capability.CHANGE_REVIEW,
        re.compile(
            r"bypass(ed)? (full )?review|code review|change review|"
            r"dependency update",
            re.I,
        ),
    ),
    (
        Capability.DETECTION,
        re.compile(r"detect|\brule\b|alert|sigma|siem|muted|fired|telemetry", re.I),
    ),
    (Capability.RUNBOOK, re.compile(r"runbook|procedure|playbook|improvis", re.I)),
    (Capability.DATA_SCOPING, re.compile(r"scope|quantif|what data|exfiltrat", re.I)),
    (Capability.ACCESS_ISOLATION, re.compile(r"isolation|wrong team|multi-?team|tenant", re.I)),
    (
        Capability.CONTAINMENT,
        re.compile(r"offline|quarantin|shut ?down|contain|disable|kill switch", re.I),
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


def guess_capability(text: str) -> Capability | None:
    for capability, pattern in CAPABILITY_WORDS:
        if pattern.search(text):
            return capability
    return None


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
    for capability, pattern in CAPABILITY_WORDS:
        if pattern.search(text):
            found.add(capability)
    return frozenset(found)
