"""File and auditd events from the strace sensor reach SigmaHQ's rules in a real drill.

``drillbook drill run`` under the default profile (sandboxed, with the sensor) runs Atomic
Red Team's T1201 test 1 (``cat /etc/pam.d/common-password``) and a technique creating a
file; the local engine then fires SigmaHQ's auditd password-policy rule (a ``PATH``
record with the file's ``name``) and a ``file_event`` rule (``TargetFilename``), both
for the technique's own processes only.

When the shared atomics lack T1201, the same command runs from an atomic written here in
Atomic Red Team's format (our own text), through the same atomic executor.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.executors import sandbox
from drillbook.flows.drill_check import check_drill
from drillbook.storage.engine import Store
from drillbook.telemetry.sensors import strace
from tests.helpers import require, shared_data

pytestmark = [pytest.mark.strace, pytest.mark.slow]

AUDITD_RULE = "sigma/rules/linux/auditd/lnx_auditd_password_policy_discovery.yml"
FILE_RULE = "sigma/rules/linux/file_event/file_event_lnx_triple_cross_rootkit_lock_file.yml"
LOCK_FILE = "/tmp/rootlog"

OWN_ATOMICS = """\
attack_technique: {technique}
display_name: {name}
atomic_tests:
- name: {name}
  auto_generated_guid: {guid}
  description: {name}
  supported_platforms: [linux]
  executor:
    name: sh
    elevation_required: false
    command: {command}
"""


def _atomic(root: Path, technique: str, name: str, guid: str, command: str) -> None:
    folder = root / technique
    folder.mkdir(parents=True)
    text = OWN_ATOMICS.format(technique=technique, name=name, guid=guid, command=command)
    (folder / f"{technique}.yaml").write_text(text)


def _atomics(tmp_path: Path) -> Path:
    """Our own folder: T1201 test 1 from the shared atomics when they hold it, and a
    file-creating technique in Atomic Red Team's format."""
    own = tmp_path / "atomics"
    shared = shared_data() / "atomic-red-team" / "atomics" / "T1201"
    if (shared / "T1201.yaml").is_file():
        (own / "T1201").mkdir(parents=True)
        (own / "T1201" / "T1201.yaml").write_text((shared / "T1201.yaml").read_text())
    else:
        _atomic(
            own,
            "T1201",
            "Examine password complexity policy - Ubuntu",
            "085fe567-ac84-47c7-ac4c-2688ce28265b",
            "cat /etc/pam.d/common-password",
        )
    _atomic(
        own,
        "T1014",
        "Rootkit lock file",
        "5f0d6b0e-31c4-4b4a-9d57-2a8d1c0e7a11",
        f"touch {LOCK_FILE}",
    )
    return own


def test_t1201_and_a_file_creation_fire_auditd_and_file_event_rules(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    require(sandbox.probe()[0], sandbox.probe()[1])
    require(strace.probe()[0], strace.probe()[1])
    require(Path("/etc/pam.d/common-password").is_file(), "no /etc/pam.d/common-password")
    data = shared_data()
    atomics = _atomics(tmp_path)
    existed = Path(LOCK_FILE).exists()
    db = f"sqlite:///{tmp_path / 'db.sqlite'}"
    monkeypatch.setenv("DRILLBOOK_DATABASE_URL", db)
    monkeypatch.chdir(tmp_path)
    plan = tmp_path / "t1201.yaml"
    plan.write_text(
        "name: t1201\n"
        "techniques:\n"
        "  - atomic: T1201\n    test: 1\n"
        f"    expected_detection: {{sigma_rule: {data / AUDITD_RULE}}}\n"
        "  - atomic: T1014\n    test: 1\n"
        f"    expected_detection: {{sigma_rule: {data / FILE_RULE}}}\n"
    )
    done = runner.invoke(app, ["drill", "run", str(plan), "--atomics", str(atomics), "--json"])
    assert done.exit_code == 0, done.output
    run_id = json.loads(done.stdout)["id"]
    store = Store(db)
    try:
        with store.session() as session:
            check = check_drill(session, run_id, wait=False, open_findings=False)
    finally:
        store.close()
    auditd, file_event = check.rows
    assert auditd.verdict == "fired", auditd.detail
    assert auditd.rule_title == "Password Policy Discovery - Linux"
    assert file_event.verdict == "fired", file_event.detail
    assert file_event.rule_title == "Triple Cross eBPF Rootkit Default LockFile"
    if not existed:  # the file stayed in the technique's scratch
        assert not Path(LOCK_FILE).exists()
