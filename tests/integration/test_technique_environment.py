"""A technique never sees drillbook's own secrets, but does see its correlation ids."""

from __future__ import annotations

from pathlib import Path

import pytest

from drillbook.domain.drill.service import get_run
from drillbook.executors.base import technique_environ
from drillbook.flows.drill_run import run_drill
from drillbook.storage.engine import Store

PLAN = """\
name: env-dump
target: {kind: local}
techniques:
  - name: T1082 - Environment dump
    test: |
      env
"""


def test_settings_are_removed_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRILLBOOK_LLM_API_KEY", "sk-not-for-techniques")
    monkeypatch.setenv("SOME_TOOL_HOME", "/opt/tool")
    env = technique_environ()
    assert "DRILLBOOK_LLM_API_KEY" not in env
    assert env["SOME_TOOL_HOME"] == "/opt/tool"


def test_an_env_dumping_technique_stores_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRILLBOOK_LLM_API_KEY", "sk-not-for-techniques")
    plan = tmp_path / "env-dump.yaml"
    plan.write_text(PLAN, encoding="utf-8")
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    run_id = run_drill(store, plan, use_sensor=False)
    with store.session() as session:
        technique = get_run(session, run_id).technique_runs[0]
        assert technique.status == "succeeded"
        assert "sk-not-for-techniques" not in technique.stdout
        assert f"DRILLBOOK_DRILL_ID={run_id}" in technique.stdout
    store.close()


@pytest.mark.parametrize("as_root", [True, False])
@pytest.mark.parametrize("sandbox", ["bubblewrap", "none"])
def test_running_uncontained_is_called_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_root: bool, sandbox: str
) -> None:
    """In the sandbox root is no longer root, so there is nothing to warn about; without
    it the operator is told that only text was checked, and about root."""
    import drillbook.flows.drill_run as drill_run

    monkeypatch.setattr(drill_run, "running_as_root", lambda: as_root)
    plan = tmp_path / "env-dump.yaml"
    text = PLAN.replace("env\n", "true\n").replace(
        "target: {kind: local}\n", f"target: {{kind: local}}\nsafety: {{sandbox: {sandbox}}}\n"
    )
    plan.write_text(text, encoding="utf-8")
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    said: list[str] = []
    run_drill(store, plan, use_sensor=False, progress=said.append)
    store.close()
    assert any("sandbox: none" in line for line in said) is (sandbox == "none")
    warned = any("running as root" in line for line in said)
    assert warned is (as_root and sandbox == "none")
