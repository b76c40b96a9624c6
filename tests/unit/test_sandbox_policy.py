"""The sandbox's command line follows the profile; a kernel that refuses it stops the drill."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drillbook.domain.drill import service
from drillbook.domain.drill.plan import SafetyProfile
from drillbook.executors import sandbox
from drillbook.executors.sandbox import SandboxPolicy, SandboxUnavailable
from drillbook.flows.drill_run import run_drill
from drillbook.storage.engine import Store


def _argv(policy: SandboxPolicy, tmp_path: Path) -> list[str]:
    scratch = sandbox.make_scratch(tmp_path / "scratch")
    return sandbox.wrap(
        ["sh", "-c", "true"], policy, private=tmp_path, scratch=scratch, env={}, report_name="x"
    ).argv


def test_the_default_profile_is_the_strictest_sandbox(tmp_path: Path) -> None:
    policy = SandboxPolicy.from_profile(SafetyProfile(max_data_volume_simulated="1MB"))
    argv = _argv(policy, tmp_path)
    joined = " ".join(argv)
    for flag in ("--unshare-net", "--unshare-pid", "--unshare-user", "--die-with-parent"):
        assert flag in argv
    assert "--cap-drop ALL" in joined
    assert "--ro-bind / /" in joined
    assert f"--bind {tmp_path / 'scratch' / 'tmp'} /tmp" in joined
    assert "--seccomp" in argv or sandbox.seccomp_program() is None
    assert str(1_000_000 // 512) in argv  # the file size cap, in 512-byte blocks
    assert argv[-3:] == ["sh", "-c", "true"]  # the technique's own argv, unchanged


def test_a_lenient_profile_opens_exactly_what_it_allows(tmp_path: Path) -> None:
    profile = SafetyProfile(
        network_allowed=True, destructive_actions_allowed=True, writable=[str(tmp_path)]
    )
    argv = _argv(SandboxPolicy.from_profile(profile), tmp_path)
    joined = " ".join(argv)
    assert "--unshare-net" not in argv
    assert "--seccomp" not in argv
    assert "--bind / /" in joined
    assert f"--bind {tmp_path} {tmp_path}" in joined
    assert "--unshare-pid" in argv  # processes never outlive the technique


def test_policy_round_trips_through_the_journal() -> None:
    policy = SandboxPolicy(network=True, scratch_bytes=10, writable=("/srv",))
    assert SandboxPolicy.from_payload(policy.payload()) == policy


def test_seccomp_program_is_whole_instructions() -> None:
    program = sandbox.seccomp_program("x86_64")
    assert program is not None
    assert len(program) % struct.calcsize("=HBBI") == 0
    assert sandbox.seccomp_program("sparc") is None


def test_writable_paths_must_be_absolute() -> None:
    with pytest.raises(ValueError, match="must be absolute"):
        SafetyProfile(writable=["relative/dir"])
    with pytest.raises(ValueError, match="whole host"):
        SafetyProfile(writable=["/"])


@pytest.fixture
def refusing_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bwrap that fails the way it does where user namespaces are off."""
    fake = tmp_path / "bwrap"
    fake.write_text(
        "#!/bin/sh\necho 'bwrap: No permissions to creating new namespace, likely because "
        "the kernel does not allow non-privileged user namespaces.' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    monkeypatch.setattr(sandbox, "bwrap_binary", lambda: str(fake))
    sandbox.probe.cache_clear()
    yield
    sandbox.probe.cache_clear()


def _plan(tmp_path: Path, safety: str) -> Path:
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"name: p\nsafety: {safety}\ntechniques:\n  - {{name: hi, test: 'echo ran'}}\n")
    return plan


@pytest.mark.usefixtures("refusing_kernel")
def test_without_namespaces_the_drill_refuses_with_what_to_enable(
    tmp_path: Path, sqlite_store: Store
) -> None:
    with pytest.raises(SandboxUnavailable) as caught:
        run_drill(sqlite_store, _plan(tmp_path, "{}"), use_sensor=False)
    message = str(caught.value)
    assert "kernel refuses" in message
    assert "user namespaces" in message
    assert "sandbox: none" in message
    with sqlite_store.session() as session:
        assert service.list_runs(session) == []  # nothing recorded, nothing ran


@pytest.mark.usefixtures("refusing_kernel")
def test_sandbox_none_runs_uncontained_and_says_so(tmp_path: Path, sqlite_store: Store) -> None:
    said: list[str] = []
    run_id = run_drill(
        sqlite_store, _plan(tmp_path, "{sandbox: none}"), use_sensor=False, progress=said.append
    )
    from drillbook.domain.drill.plan import describe_containment
    from drillbook.flows.drill_check import scorecard_for

    with sqlite_store.session() as session:
        run = service.get_run(session, run_id)
        assert run.technique_runs[0].stdout == "ran\n"
        assert describe_containment(run.safety).startswith("none: techniques ran uncontained")
        card = scorecard_for(session, run_id)
    assert (card.containment or "").startswith("none:")
    assert 'containment: "none: techniques ran uncontained' in card.dump()
    assert any("sandbox: none" in line for line in said)


def test_missing_writable_path_is_a_clear_error(tmp_path: Path, sqlite_store: Store) -> None:
    from drillbook.errors import ConfigError

    if not sandbox.probe()[0]:
        pytest.skip(sandbox.probe()[1])
    missing = tmp_path / "nope"
    with pytest.raises(ConfigError, match=r"writable path .*nope does not exist"):
        run_drill(sqlite_store, _plan(tmp_path, f"{{writable: [{missing}]}}"), use_sensor=False)
    assert not os.path.exists(missing)


_line_text = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs",),
        blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029",
    ),
    max_size=40,
)


@given(st.text(max_size=400))
def test_report_parser_never_fails(text: str) -> None:
    report = sandbox.parse_report(text)
    assert report.received == any(line.startswith("exit ") for line in text.splitlines())


@given(
    st.lists(st.tuples(st.integers(2, 99999), _line_text), max_size=5),
    st.lists(_line_text.filter(lambda p: p.strip() == p and p), max_size=5),
    st.integers(0, 255),
)
def test_report_round_trips(leftovers: list[tuple[int, str]], paths: list[str], code: int) -> None:
    lines = [f"left {pid} {comm}" for pid, comm in leftovers]
    lines += [f"exists {p}" for p in paths]
    lines.append(f"exit {code}")
    report = sandbox.parse_report("\n".join(lines) + "\n")
    assert report.leftovers == [f"{pid} {comm}" for pid, comm in leftovers]
    assert report.existing == set(paths)
    assert report.exit_code == code
    assert report.received


@given(st.text(max_size=30))
def test_attack_id_of_only_returns_attack_ids(text: str) -> None:
    from drillbook.domain.scorecard.navigator import ATTACK_ID, attack_id_of

    found = attack_id_of(text)
    assert found is None or ATTACK_ID.match(found)
