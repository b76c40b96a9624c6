"""Atomics the old text checks refused or misread run contained, and fire SigmaHQ's rules.

* T1140 test 5 (base64 decoding with shell utilities) writes a scratch file under /tmp
  and has no cleanup: the text checks refused it; in the sandbox it runs, fires "Decode
  Base64 Encoded Text", and leaves nothing behind.
* T1140 test 9 puts a base64 shebang in its command line: the old correlation hid the
  runner's ``sh -c`` wrapper, which *was* the atomic's command, so "Linux Base64 Encoded
  Shebang In CLI" never fired. Now the atomic's own command is the technique's process.

The shared atomics may not hold T1140; then the same shapes run from an atomic written
here in Atomic Red Team's format (our own text), through the same atomic executor.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.executors import sandbox
from drillbook.flows.drill_check import check_drill
from drillbook.flows.drill_run import run_drill
from drillbook.storage.engine import Store
from drillbook.telemetry.sensors import strace
from tests.helpers import require, shared_data

pytestmark = [pytest.mark.strace]

RULES = "sigma/rules/linux/process_creation"
DECODE_RULE = f"{RULES}/proc_creation_lnx_base64_decode.yml"
SHEBANG_RULE = f"{RULES}/proc_creation_lnx_base64_shebang_cli.yml"
SCRATCH_FILE = "/tmp/T1140.drillbook-test.encoded"

OWN_T1140 = f"""\
attack_technique: T1140
display_name: Deobfuscate/Decode Files or Information
atomic_tests:
- name: Base64 decoding through a scratch file
  auto_generated_guid: 0b3f8a4e-5d0c-4f7e-9d63-1c2a7d9e1b10
  description: decodes base64 text with coreutils, via a scratch file and no cleanup
  supported_platforms: [linux]
  input_arguments:
    message: {{description: text, type: string, default: drillbook decodes this}}
    encoded_file: {{description: scratch file, type: path, default: {SCRATCH_FILE}}}
  executor:
    name: sh
    elevation_required: false
    command: |
      ENCODED=$(echo '#{{message}}' | base64)
      echo $ENCODED > #{{encoded_file}} && base64 -d #{{encoded_file}}
      echo $ENCODED | base64 -d
- name: Decoded shebang script piped to a shell
  auto_generated_guid: 7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f
  description: a base64 script starting with a shebang, decoded and run
  supported_platforms: [linux]
  executor:
    name: sh
    elevation_required: false
    command: |
      echo IyEvYmluL2Jhc2gKZWNobyAiZGVjb2RlZCBhbmQgcnVuIgo= | base64 -d | bash
"""


def _atomics(tmp_path: Path) -> tuple[Path, dict[str, int]]:
    """The shared atomics when they hold T1140 (tests 5 and 9), else our own."""
    shared = shared_data() / "atomic-red-team" / "atomics"
    if (shared / "T1140" / "T1140.yaml").is_file():
        return shared, {"decode": 5, "shebang": 9}
    own = tmp_path / "atomics" / "T1140"
    own.mkdir(parents=True)
    (own / "T1140.yaml").write_text(OWN_T1140)
    return own.parent, {"decode": 1, "shebang": 2}


def test_t1140_decoding_and_shebang_run_contained_and_fire(
    sqlite_store: Store, tmp_path: Path
) -> None:
    require(sandbox.probe()[0], sandbox.probe()[1])
    require(strace.probe()[0], strace.probe()[1])
    data = shared_data()
    atomics, tests = _atomics(tmp_path)
    existed = Path(SCRATCH_FILE).exists() or Path("/tmp/T1140.encoded").exists()
    plan = tmp_path / "t1140.yaml"
    plan.write_text(
        "name: t1140\n"
        "safety: {destructive_actions_allowed: false, network_allowed: false}\n"
        "techniques:\n"
        f"  - atomic: T1140\n    test: {tests['decode']}\n"
        f"    expected_detection: {{sigma_rule: {data / DECODE_RULE}}}\n"
        f"  - atomic: T1140\n    test: {tests['shebang']}\n"
        f"    expected_detection: {{sigma_rule: {data / SHEBANG_RULE}}}\n"
    )
    run_id = run_drill(sqlite_store, plan, atomics=atomics)
    with sqlite_store.session() as session:
        check = check_drill(session, run_id)
    decode, shebang = check.rows
    assert decode.verdict == "fired", decode.detail
    assert decode.rule_title == "Decode Base64 Encoded Text"
    assert shebang.verdict == "fired", shebang.detail
    assert shebang.rule_title == "Linux Base64 Encoded Shebang In CLI"
    if not existed:  # the scratch file stayed in the technique's scratch
        assert not Path(SCRATCH_FILE).exists()
        assert not Path("/tmp/T1140.encoded").exists()


def test_t1082_writes_its_default_output_to_scratch_only(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """T1082 test 3 appends to /tmp/T1082.txt and cleans it up; in the sandbox the file
    is the scratch's, visible to its checks, absent from the host."""
    require(sandbox.probe()[0], sandbox.probe()[1])
    data = shared_data()
    existed = Path("/tmp/T1082.txt").exists()
    plan = tmp_path / "t1082.yaml"
    plan.write_text(
        "name: t1082\ntechniques:\n  - atomic: T1082\n    test: 3\n"
        "    checks: [{file_exists: /tmp/T1082.txt}]\n"
    )
    run_id = run_drill(
        sqlite_store, plan, atomics=data / "atomic-red-team" / "atomics", use_sensor=False
    )
    from drillbook.domain.drill import service

    with sqlite_store.session() as session:
        [tech] = service.get_run(session, run_id).technique_runs
        assert tech.status == "succeeded", (tech.stderr, tech.checks)
        assert tech.checks[0]["passed"]
    if not existed:
        assert not Path("/tmp/T1082.txt").exists()
