"""Executors: found by entry point, prerequisites, SSH command lines, bounded output."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.domain.drill import service
from drillbook.domain.drill.plan import Target
from drillbook.errors import ConfigError
from drillbook.executors.atomic import AtomicExecutor
from drillbook.executors.base import load_executor
from drillbook.executors.inline import InlineExecutor
from drillbook.executors.process import OUTPUT_LIMIT
from drillbook.executors.shell import shell_argv
from drillbook.executors.stratus import StratusExecutor
from drillbook.flows.drill_run import prepare_plan, run_drill
from drillbook.storage.engine import Store

ATOMIC = """\
attack_technique: T1000
display_name: Test technique
atomic_tests:
- name: Needs a file
  auto_generated_guid: 11111111-2222-3333-4444-555555555555
  description: writes a marker when its prerequisite exists
  supported_platforms: [linux, macos]
  input_arguments:
    needed: {description: file, type: path, default: PLACEHOLDER_NEEDED}
    out: {description: out, type: path, default: PLACEHOLDER_OUT}
  dependency_executor_name: sh
  dependencies:
  - description: the needed file must exist
    prereq_command: 'test -f #{needed}'
    get_prereq_command: 'touch #{needed}'
  executor:
    name: bash
    command: 'cat #{needed} > #{out}; echo ran'
    cleanup_command: 'rm -f #{out} #{needed}'
- name: Fetches its prerequisite
  supported_platforms: [linux]
  dependencies:
  - description: tool downloaded
    prereq_command: 'false'
    get_prereq_command: curl -o /tmp/tool http://example.invalid/tool
  executor: {name: sh, command: 'true', cleanup_command: 'true'}
- name: Manual
  supported_platforms: [linux]
  executor: {name: manual, steps: 'do it by hand'}
"""


@pytest.fixture
def atomics(tmp_path: Path) -> Path:
    root = tmp_path / "atomics"
    (root / "T1000").mkdir(parents=True)
    text = ATOMIC.replace("PLACEHOLDER_NEEDED", str(tmp_path / "needed")).replace(
        "PLACEHOLDER_OUT", str(tmp_path / "out")
    )
    (root / "T1000" / "T1000.yaml").write_text(text)
    return root


def test_executors_are_found_by_entry_point_name() -> None:
    assert isinstance(load_executor("atomic"), AtomicExecutor)
    assert isinstance(load_executor("inline"), InlineExecutor)
    assert isinstance(load_executor("stratus"), StratusExecutor)
    with pytest.raises(ConfigError, match="no executor named 'caldera'"):
        load_executor("caldera")


def _plan(tmp_path: Path, test: int | str, safety: str = "") -> Path:
    """A plan whose techniques may write to ``tmp_path`` (a ``writable:`` path)."""
    plan = tmp_path / "plan.yaml"
    safety = safety or f"{{writable: [{tmp_path}]}}"
    plan.write_text(
        f"name: p\nsafety: {safety}\ntechniques:\n  - atomic: T1000\n    test: {test}\n"
    )
    return plan


def test_unmet_prerequisite_is_not_runnable_without_get_prereqs(
    atomics: Path, tmp_path: Path, sqlite_store: Store
) -> None:
    run_id = run_drill(sqlite_store, _plan(tmp_path, 1), atomics=atomics, use_sensor=False)
    with sqlite_store.session() as session:
        [tech] = service.get_run(session, run_id).technique_runs
        assert tech.status == "not_runnable"
        assert tech.reason == (
            "prerequisite not met: the needed file must exist (run with --get-prereqs to fetch it)"
        )
    assert not (tmp_path / "needed").exists()


def test_get_prereqs_fetches_then_runs_and_cleans(
    atomics: Path, tmp_path: Path, sqlite_store: Store
) -> None:
    run_id = run_drill(
        sqlite_store,
        _plan(tmp_path, "Needs a file"),
        atomics=atomics,
        get_prereqs=True,
        use_sensor=False,
    )
    with sqlite_store.session() as session:
        [tech] = service.get_run(session, run_id).technique_runs
        assert tech.status == "succeeded", tech.stderr
        assert tech.stdout == "ran\n"
        assert tech.details["guid"] == "11111111-2222-3333-4444-555555555555"
        assert tech.details["executor_name"] == "bash"
        assert tech.cleanup_outcome == "done"
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "needed").exists()


def test_get_prereq_commands_count_for_safety_only_when_asked(
    atomics: Path, tmp_path: Path
) -> None:
    """Without a sandbox the text decides, and get_prereq commands count only when they
    will run; in the sandbox the text refuses nothing (the kernel enforces the profile)."""
    plan = _plan(tmp_path, 2, safety="{sandbox: none}")
    quiet = prepare_plan(plan, atomics=atomics, library=None)
    assert quiet.decisions[0][1] is None
    asked = prepare_plan(plan, atomics=atomics, library=None, get_prereqs=True)
    assert "curl" in (asked.decisions[0][1] or "")
    contained = prepare_plan(_plan(tmp_path, 2), atomics=atomics, library=None, get_prereqs=True)
    assert contained.decisions[0][1] is None


def test_manual_executor_is_listed_not_run(atomics: Path, tmp_path: Path) -> None:
    prepared = prepare_plan(_plan(tmp_path, 3), atomics=atomics, library=None)
    assert prepared.decisions[0][0].value == "not_runnable"
    assert "executor 'manual'" in (prepared.decisions[0][1] or "")


def test_ssh_target_command_line() -> None:
    target = Target(kind="ssh", host="staging-1", user="drill", port=2222)
    argv = shell_argv("sh", "uname -a; echo 'x'", target, {"DRILLBOOK_DRILL_ID": "abc"})
    assert argv[:6] == ["ssh", "-o", "BatchMode=yes", "-p", "2222", "drill@staging-1"]
    assert argv[6] == "--"
    assert argv[7] == ("DRILLBOOK_DRILL_ID=abc sh -c 'uname -a; echo '\"'\"'x'\"'\"''")


def test_output_is_bounded(tmp_path: Path, sqlite_store: Store) -> None:
    plan = tmp_path / "p.yaml"
    plan.write_text(
        "name: loud\ntechniques:\n  - name: loud\n    test: head -c 200000 /dev/zero | tr '\\0' a\n"
    )
    run_id = run_drill(sqlite_store, plan, use_sensor=False)
    with sqlite_store.session() as session:
        [tech] = service.get_run(session, run_id).technique_runs
        assert tech.status == "succeeded"
        assert len(tech.stdout) == OUTPUT_LIMIT
        assert tech.details["stdout_truncated"] is True


def test_one_cleanup_that_cannot_run_does_not_block_the_others(
    sqlite_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drillbook.domain.drill.enums import JournalStep
    from drillbook.executors import journal
    from drillbook.flows.drill_cleanup import settle_pending

    monkeypatch.setenv("PATH", "/usr/bin:/bin")  # no stratus binary
    cleaned = tmp_path / "cleaned"
    owed = [
        ("stratus", {"kind": "stratus", "technique": "aws.x.y", "cwd": str(tmp_path)}),
        ("inline", {"kind": "shell", "command": f"echo ok > {cleaned}", "cwd": str(tmp_path)}),
        ("no-such-executor", {"kind": "shell", "command": "true"}),
    ]
    for number, (executor, cleanup) in enumerate(owed):
        journal.begin(
            sqlite_store,
            drill_run_id="run",
            technique_run_id=f"t{number}",
            step=JournalStep.DETONATE,
            executor=executor,
            payload={"cleanup": cleanup, "technique": executor},
        )
    settled = settle_pending(sqlite_store)
    assert [s.outcome for s in settled] == ["failed", "done", "failed"]
    assert cleaned.read_text().strip() == "ok"
    assert {o.technique_run_id for o in journal.owed_cleanups(sqlite_store)} == {"t0", "t2"}
