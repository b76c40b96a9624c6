"""Stratus Red Team through its CLI, against a stand-in `stratus` that follows the
documented command-line behaviour (warmup, detonate, revert, cleanup, status)."""

from __future__ import annotations

import os
import stat
import uuid
from pathlib import Path

import pytest

from drillbook.domain.drill import service
from drillbook.executors.stratus import correlation_uuid, parse_status
from drillbook.flows.drill_run import run_drill
from drillbook.storage.engine import Store

TECHNIQUE = "aws.credential-access.ec2-steal-instance-credentials"

FAKE_STRATUS = r"""#!/bin/sh
# Stand-in for the stratus CLI: state per technique, like ~/.stratus-red-team does.
state_dir="$HOME/.stratus-red-team"; mkdir -p "$state_dir"
log="$state_dir/calls.log"
corr="corr=$STRATUS_RED_TEAM_CORRELATION_ID det=$STRATUS_RED_TEAM_DETONATION_ID"
echo "$1 $2 $corr profile=$AWS_PROFILE" >> "$log"
if [ "$1" = detonate ] && [ -n "$FAKE_STRATUS_FAIL" ]; then
  echo "Error while detonating attack technique $2: AccessDenied" >&2; exit 1
fi
get() { cat "$state_dir/$1.state" 2>/dev/null || echo COLD; }
case "$1" in
  status)
    echo "+--------------------------------------------------------+--------+"
    echo "| ID                                                     | STATUS |"
    for t in aws.credential-access.ec2-steal-instance-credentials \
             aws.persistence.iam-create-admin-user; do
      echo "| $t | Some name | $(get $t) |"
    done ;;
  warmup) echo WARM > "$state_dir/$2.state"; echo "Warming up $2" >&2 ;;
  detonate)
    [ "$(get $2)" = COLD ] && echo WARM > "$state_dir/$2.state"
    echo DETONATED > "$state_dir/$2.state"; echo "Detonating $2" >&2 ;;
  revert)
    [ "$(get $2)" = DETONATED ] || { echo "$2 is not in DETONATED state" >&2; exit 1; }
    echo WARM > "$state_dir/$2.state" ;;
  cleanup)
    [ "$(get $2)" = COLD ] && { echo "$2 is already COLD" >&2; exit 1; }
    echo COLD > "$state_dir/$2.state"; echo "Cleaning up $2" >&2 ;;
  *) echo "unknown command $1" >&2; exit 2 ;;
esac
"""


@pytest.fixture
def fake_stratus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "stratus"
    script.write_text(FAKE_STRATUS)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    home = Path(os.environ["HOME"])
    home.mkdir(parents=True, exist_ok=True)
    return home / ".stratus-red-team"


def _plan(tmp_path: Path, technique: str = TECHNIQUE, extra: str = "") -> Path:
    plan = tmp_path / "cloud.yaml"
    plan.write_text(
        "name: cloud\ntarget: {kind: cloud, profile: drill-test-account, provider: aws}\n"
        f"techniques:\n  - stratus: {technique}\n    revert: true\n{extra}"
        "    expected_detection: [{sigma_rule: rules/aws/imds-anomaly.yml}]\n"
    )
    return plan


def test_status_table_is_parsed() -> None:
    text = (
        "| ID | NAME | STATUS |\n| aws.defense-evasion.cloudtrail-stop | Stop | WARM |\n"
        "| k8s.persistence.create-token | Token | DETONATED |\n| junk |\n"
    )
    assert parse_status(text) == {
        "aws.defense-evasion.cloudtrail-stop": "WARM",
        "k8s.persistence.create-token": "DETONATED",
    }


def test_correlation_id_is_the_run_id_as_uuid() -> None:
    run_id = uuid.uuid4().hex
    assert uuid.UUID(correlation_uuid(run_id)).hex == run_id
    assert uuid.UUID(correlation_uuid("not-hex"))  # still a valid UUID


def test_detonate_revert_cleanup_with_correlation(
    fake_stratus: Path, tmp_path: Path, sqlite_store: Store
) -> None:
    run_id = run_drill(sqlite_store, _plan(tmp_path), atomics=tmp_path / "none")
    with sqlite_store.session() as session:
        run = service.get_run(session, run_id)
        [tech] = run.technique_runs
        assert tech.status == "succeeded", (tech.reason, tech.stderr)
        assert tech.technique == TECHNIQUE
        assert tech.details["steps"] == [
            f"warmup {TECHNIQUE}",
            f"detonate {TECHNIQUE}",
            f"revert {TECHNIQUE}",
        ]
        assert tech.details["stratus_state"] == "WARM"
        assert tech.cleanup_outcome == "done"
        assert "COLD" in (tech.cleanup_output or "")
        assert tech.telemetry_captured is False
        assert "cloud audit log" in (tech.telemetry_note or "")
    calls = (fake_stratus / "calls.log").read_text().splitlines()
    expected = correlation_uuid(run_id)
    assert [c.split()[0] for c in calls] == [
        "warmup",
        "detonate",
        "revert",
        "status",
        "cleanup",
        "status",
    ]
    assert all(f"corr={expected}" in c and f"det={expected}" in c for c in calls)
    assert all("profile=drill-test-account" in c for c in calls)
    assert (fake_stratus / f"{TECHNIQUE}.state").read_text().strip() == "COLD"


def test_failed_detonation_is_recorded_and_still_cleaned(
    fake_stratus: Path, tmp_path: Path, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_STRATUS_FAIL", "1")
    run_id = run_drill(sqlite_store, _plan(tmp_path), atomics=tmp_path / "none")
    with sqlite_store.session() as session:
        [tech] = service.get_run(session, run_id).technique_runs
        assert tech.status == "failed"
        assert tech.exit_code == 1
        assert "AccessDenied" in tech.stderr
        assert tech.details["steps"] == [f"warmup {TECHNIQUE}", f"detonate {TECHNIQUE}"]
        assert tech.cleanup_outcome == "done"
    assert (fake_stratus / f"{TECHNIQUE}.state").read_text().strip() == "COLD"


def test_absent_stratus_is_a_clear_not_runnable(
    tmp_path: Path, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    run_id = run_drill(sqlite_store, _plan(tmp_path), atomics=tmp_path / "none")
    with sqlite_store.session() as session:
        [tech] = service.get_run(session, run_id).technique_runs
        assert tech.status == "not_runnable"
        assert "stratus is not on the PATH" in (tech.reason or "")


def test_impact_techniques_are_refused_by_default(
    fake_stratus: Path, tmp_path: Path, sqlite_store: Store
) -> None:
    plan = _plan(tmp_path, technique="aws.impact.s3-ransomware-individual-deletion")
    run_id = run_drill(sqlite_store, plan, atomics=tmp_path / "none")
    with sqlite_store.session() as session:
        [tech] = service.get_run(session, run_id).technique_runs
        assert tech.status == "refused"
        assert "destructive by design" in (tech.reason or "")
    assert not (fake_stratus / "calls.log").exists()


def test_a_plan_that_declares_network_is_refused_without_network_allowed(
    fake_stratus: Path, tmp_path: Path, sqlite_store: Store
) -> None:
    plan = _plan(tmp_path, extra="    network: true\n")
    run_id = run_drill(sqlite_store, plan, atomics=tmp_path / "none")
    with sqlite_store.session() as session:
        [tech] = service.get_run(session, run_id).technique_runs
        assert tech.status == "refused"
        assert "network: true" in (tech.reason or "")
    assert not (fake_stratus / "calls.log").exists()
