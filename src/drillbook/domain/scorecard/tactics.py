"""Which ATT&CK tactic a drill technique belongs to, for the pass rate per tactic.

A detection result names its technique the way its executor does: an Atomic Red Team
test as ``T1082-1``, an inline technique by its ``attack_id`` (``T1059.004``), a Stratus
Red Team attack as ``aws.credential-access.ec2-get-password-data`` (the tactic is the
second part). For ATT&CK ids the table below gives the tactic. It covers the techniques
drillbook knows (the built-in scenarios and scaffolds) and was read off the Sigma rules'
tags: a rule tagged ``attack.discovery`` and ``attack.t1082`` says T1082 is discovery.
:func:`learn_from_sigma_tags` reads such pairs from any rule, so a library's own rules
can extend the table (``tactic_of(..., extra=...)``). A technique that ATT&CK lists
under several tactics is filed under its first-listed one, so every result counts once.
Anything else is ``unmapped``: shown, never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

UNMAPPED = "unmapped"

# ATT&CK's tactic order (the kill chain), used to sort the chart's bars.
TACTIC_ORDER = (
    "reconnaissance",
    "resource-development",
    "initial-access",
    "execution",
    "persistence",
    "privilege-escalation",
    "defense-evasion",
    "credential-access",
    "discovery",
    "lateral-movement",
    "collection",
    "command-and-control",
    "exfiltration",
    "impact",
)

TECHNIQUE_TACTICS: dict[str, str] = {
    "T1003": "credential-access",
    "T1021": "lateral-movement",
    "T1033": "discovery",
    "T1041": "exfiltration",
    "T1048": "exfiltration",
    "T1056": "collection",
    "T1059": "execution",
    "T1078": "initial-access",
    "T1082": "discovery",
    "T1087": "discovery",
    "T1098": "persistence",
    "T1114": "collection",
    "T1133": "initial-access",
    "T1190": "initial-access",
    "T1195": "initial-access",
    "T1199": "initial-access",
    "T1213": "collection",
    "T1486": "impact",
    "T1490": "impact",
    "T1496": "impact",
    "T1498": "impact",
    "T1499": "impact",
    "T1505": "persistence",
    "T1528": "credential-access",
    "T1530": "collection",
    "T1534": "lateral-movement",
    "T1539": "credential-access",
    "T1550": "defense-evasion",
    "T1552": "credential-access",
    "T1553": "defense-evasion",
    "T1554": "persistence",
    "T1555": "credential-access",
    "T1557": "credential-access",
    "T1562": "defense-evasion",
    "T1565": "impact",
    "T1566": "initial-access",
    "T1567": "exfiltration",
    "T1580": "discovery",
    "T1584": "resource-development",
    "T1586": "resource-development",
    "T1588": "resource-development",
    "T1609": "execution",
    "T1610": "execution",
    "T1611": "privilege-escalation",
    "T1613": "discovery",
    "T1619": "discovery",
    "T1621": "credential-access",
    "T1656": "defense-evasion",
    "T1657": "impact",
}

_ATTACK_ID = re.compile(r"^(T\d{4})(?:\.\d{3})?(?:-\d+)?$", re.IGNORECASE)
_TECHNIQUE_TAG = re.compile(r"^attack\.(t\d{4})(?:\.\d{3})?$", re.IGNORECASE)
_TACTIC_TAG = re.compile(r"^attack\.([a-z][a-z_-]+)$", re.IGNORECASE)


def _tactic_name(text: str) -> str | None:
    name = text.lower().replace("_", "-")
    return name if name in TACTIC_ORDER else None


def learn_from_sigma_tags(tags: Iterable[str]) -> dict[str, str]:
    """The technique -> tactic pairs one Sigma rule's tags state. Only a rule naming
    exactly one tactic says anything unambiguous; it maps every technique it names."""
    tactics, techniques = set(), set()
    for tag in tags:
        if found := _TECHNIQUE_TAG.match(tag.strip()):
            techniques.add(found.group(1).upper())
        elif (found := _TACTIC_TAG.match(tag.strip())) and (name := _tactic_name(found[1])):
            tactics.add(name)
    if len(tactics) != 1:
        return {}
    (tactic,) = tactics
    return dict.fromkeys(sorted(techniques), tactic)


def tactic_of(technique: str, extra: Mapping[str, str] | None = None) -> str:
    """The tactic of one detection result's technique (``unmapped`` when unknown)."""
    text = technique.strip()
    if found := _ATTACK_ID.match(text):
        parent = found.group(1).upper()
        if extra and parent in extra:
            return extra[parent]
        return TECHNIQUE_TACTICS.get(parent, UNMAPPED)
    parts = text.split(".")
    if len(parts) >= 3 and (name := _tactic_name(parts[1])):  # a Stratus Red Team id
        return name
    return UNMAPPED


def tactic_rank(tactic: str) -> int:
    return TACTIC_ORDER.index(tactic) if tactic in TACTIC_ORDER else len(TACTIC_ORDER)
