"""``drill validate`` reports a plan's mistakes at their lines and explains techniques."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app

ATOMIC = """\
attack_technique: T1000
display_name: Test technique
atomic_tests:
- name: Writes a file
  supported_platforms: [linux]
  input_arguments:
    out: {description: out, type: path, default: /tmp/out}
  executor: {name: sh, command: 'curl -s x > #{out}'}
"""


@pytest.fixture
def atomics(tmp_path: Path) -> Path:
    (tmp_path / "atomics" / "T1000").mkdir(parents=True)
    (tmp_path / "atomics" / "T1000" / "T1000.yaml").write_text(ATOMIC)
    return tmp_path / "atomics"


def _validate(runner: CliRunner, plan: Path, atomics: Path, *extra: str) -> object:
    return runner.invoke(app, ["drill", "validate", str(plan), "--atomics", str(atomics), *extra])


def test_each_mistake_is_a_located_error(
    runner: CliRunner, tmp_path: Path, atomics: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "name: p\n"
        "techniques:\n"
        "  - atomic: T1000\n"
        "    test: 1\n"
        "    inputs: {outt: /tmp/x}\n"
        "  - atomic: T1000\n"
        "    test: 7\n"
        "  - atomic: T9999\n"
        "    test: 1\n"
        "  - name: inline\n"
        "    test: 'true'\n"
        "    expected_detection: {sigma_rule: rules/nope.yml}\n"
    )
    done = _validate(runner, plan, atomics)
    assert done.exit_code != 0
    out = done.output
    lines = {line.split(": ", 1)[0]: line for line in out.splitlines() if str(plan) in line}
    assert "no input argument 'outt' (it has: out)" in lines[f"{plan}:5:14"]
    assert "there is no test 7" in lines[f"{plan}:7:11"]
    assert "T9999 is not in the atomics folder" in lines[f"{plan}:8:13"]
    assert "sigma_rule file rules/nope.yml not found" in lines[f"{plan}:12:38"]
    assert "Traceback" not in out


def test_a_clean_plan_explains_what_the_text_suggests(
    runner: CliRunner, tmp_path: Path, atomics: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "rule.yml").write_text("title: x\n")
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "name: p\ntechniques:\n  - atomic: T1000\n    test: 1\n    inputs: {out: /tmp/y}\n"
        "    expected_detection: {sigma_rule: rule.yml}\n"
        "  - {name: abs, test: /usr/bin/curl -s 127.0.0.1:9}\n"
    )
    done = _validate(runner, plan, atomics, "--json")
    assert done.exit_code == 0, done.output
    rows = json.loads(done.stdout)
    assert [r["decision"] for r in rows] == ["will run", "will run"]
    assert all(r["contained"] for r in rows)
    assert "would need network (curl)" in rows[0]["explanation"]
    assert "would need network (/usr/bin/curl)" in rows[1]["explanation"]
