"""SIEM queries in the SIEM's own field names: pySigma processing pipelines per backend,
configurable in drillbook.yaml, and a conversion failure told in the verdict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from drillbook.detection.base import Verdict
from drillbook.detection.config import DetectionConfig
from drillbook.detection.pipelines import build
from drillbook.detection.registry import load_backend
from drillbook.errors import ConfigError
from tests.unit.test_siem_backends import (
    RULE,
    SECRET,
    SIGMA_RULE,
    WINDOW,
    backend_for,
    config_for,
)

WINDOWS_RULE = """
title: Whoami on Windows
id: 0d8f8a4e-3c55-4b0e-9d7a-000000000002
logsource: {product: windows, category: process_creation}
detection:
  selection:
    Image|endswith: '\\\\whoami.exe'
    CommandLine|contains: '/all'
  condition: selection
level: low
"""


def backend(name: str, pipelines: list[str] | None, root: Path | None = None) -> Any:
    config = config_for(name)
    section = getattr(config, name).model_copy(update={"pipelines": pipelines})
    config = config.model_copy(update={name: section})
    return load_backend(name, config, library_root=root)


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRILL_TEST_TOKEN", SECRET)


def test_elastic_queries_use_ecs_fields_for_windows_and_linux_rules() -> None:
    elastic = backend("elastic", None)
    windows = elastic.convert(WINDOWS_RULE)
    assert "process.executable" in windows
    assert "process.command_line" in windows
    assert "Image" not in windows
    linux = elastic.convert(Path(RULE).read_text())
    assert "process.executable" in linux
    assert "Image" not in linux


def test_an_empty_list_keeps_the_rules_own_field_names() -> None:
    assert "Image" in backend("elastic", []).convert(WINDOWS_RULE)


def test_splunk_can_use_the_cim_data_model() -> None:
    query = backend("splunk", ["splunk_cim"]).convert(WINDOWS_RULE)
    assert "Processes.process_path" in query or "Processes." in query


def test_a_pipeline_file_in_the_library(tmp_path: Path) -> None:
    (tmp_path / "fields.yml").write_text(
        "name: ours\npriority: 30\ntransformations:\n"
        "  - type: field_name_mapping\n    mapping: {Image: proc_path}\n"
    )
    query = backend("elastic", ["fields.yml"], root=tmp_path).convert(WINDOWS_RULE)
    assert "proc_path" in query


def test_an_unknown_pipeline_name_lists_the_installed_ones() -> None:
    with pytest.raises(ConfigError, match=r"no pySigma pipeline named 'ecs_nope'.*ecs_windows"):
        build("elastic", ["ecs_nope"])


def test_a_bad_pipeline_file_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "bad.yml").write_text("transformations: 7\n")
    with pytest.raises(ConfigError, match=r"bad\.yml is not a pySigma pipeline"):
        build("splunk", ["bad.yml"], tmp_path)


def test_pipelines_are_a_setting_of_each_backend() -> None:
    config = DetectionConfig.model_validate(
        {"elastic": {"url": "https://es.example", "pipelines": ["ecs_windows"]}}
    )
    assert config.elastic is not None
    assert config.elastic.pipelines == ["ecs_windows"]


def test_a_conversion_failure_is_told_in_the_verdict(tmp_path: Path) -> None:
    (tmp_path / "refuse.yml").write_text(
        "name: refuse\npriority: 30\ntransformations:\n"
        "  - type: rule_failure\n    message: this SIEM has no process events\n"
    )
    seen: list[httpx.Request] = []
    splunk = backend_for("splunk", "not_fired", seen)
    splunk.config = splunk.config.model_copy(update={"pipelines": ["refuse.yml"]})  # type: ignore[attr-defined]
    splunk.library_root = tmp_path  # type: ignore[attr-defined]
    # the rule names a file, not a query: the check converts it and the pipeline refuses
    result = splunk.check_once(SIGMA_RULE, WINDOW)
    assert result.verdict is Verdict.NOT_FIRED
    assert "could not be converted for splunk" in result.detail
    assert "this SIEM has no process events" in result.detail
