"""Technique -> ATT&CK tactic for the pass rate per tactic."""

from __future__ import annotations

from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from drillbook.domain.scorecard.tactics import (
    TACTIC_ORDER,
    TECHNIQUE_TACTICS,
    UNMAPPED,
    learn_from_sigma_tags,
    tactic_of,
)

SCAFFOLD_RULES = Path(__file__).parents[2] / "src" / "drillbook" / "library" / "scaffold"


def test_every_executor_naming_finds_its_tactic() -> None:
    assert tactic_of("T1082") == "discovery"
    assert tactic_of("T1082-1") == "discovery"  # an Atomic Red Team test
    assert tactic_of("t1552.001") == "credential-access"  # a sub-technique, any case
    assert tactic_of("aws.credential-access.ec2-get-password-data") == "credential-access"
    assert tactic_of("k8s.privilege_escalation.x") == "privilege-escalation"
    assert tactic_of("T9999") == UNMAPPED
    assert tactic_of("inline-3") == UNMAPPED
    assert tactic_of("aws.not-a-tactic.x") == UNMAPPED
    assert tactic_of("T9999", extra={"T9999": "impact"}) == "impact"


def test_the_table_names_only_real_tactics() -> None:
    assert set(TECHNIQUE_TACTICS.values()) <= set(TACTIC_ORDER)


def test_sigma_tags_state_a_mapping_only_when_one_tactic_is_named() -> None:
    assert learn_from_sigma_tags(["attack.discovery", "attack.t1082"]) == {"T1082": "discovery"}
    assert learn_from_sigma_tags(["attack.credential_access", "attack.t1552.001"]) == {
        "T1552": "credential-access"
    }
    assert (
        learn_from_sigma_tags(["attack.persistence", "attack.initial-access", "attack.t1078"]) == {}
    )
    assert learn_from_sigma_tags(["cve.2021-44228", "attack.t1190"]) == {}


def test_the_table_agrees_with_the_shipped_sigma_rules() -> None:
    rules = sorted(SCAFFOLD_RULES.rglob("*.yml"))
    assert rules
    for path in rules:
        tags = yaml.safe_load(path.read_text()).get("tags", [])
        for technique, tactic in learn_from_sigma_tags(tags).items():
            assert TECHNIQUE_TACTICS[technique] == tactic, path


@given(st.text(max_size=80))
def test_any_text_gets_a_known_tactic_or_unmapped(text: str) -> None:
    assert tactic_of(text) in (*TACTIC_ORDER, UNMAPPED)


@given(st.lists(st.text(max_size=30), max_size=8))
def test_any_tags_give_known_tactics(tags: list[str]) -> None:
    assert set(learn_from_sigma_tags(tags).values()) <= set(TACTIC_ORDER)
