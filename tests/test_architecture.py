"""The layers of ARCHITECTURE.md rule 2 hold: import-linter checks the contracts declared in
pyproject.toml (``[tool.importlinter]``), every top-level package is placed in a layer,
and the contracts really catch an import that goes the wrong way."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import grimp
import pytest

from tests.helpers import ROOT

PACKAGE = ROOT / "src" / "drillbook"
# Not layers: the package root (version), `python -m drillbook`, the generated version.
OUTSIDE_THE_LAYERS = {"__init__", "__main__", "_version"}


def _contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}


def _layered_modules() -> set[str]:
    names: set[str] = set()
    for layer in _contracts()["layers"]["layers"]:
        for part in layer.replace(":", "|").split("|"):
            names.add(part.strip().removeprefix("drillbook."))
    return names


def test_lint_imports_keeps_every_contract() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_every_top_level_package_is_in_a_layer() -> None:
    found = {
        path.stem
        for path in PACKAGE.iterdir()
        if (path.is_dir() and (path / "__init__.py").is_file()) or path.suffix == ".py"
    }
    missing = found - OUTSIDE_THE_LAYERS - _layered_modules()
    assert not missing, f"place these in [tool.importlinter] layers: {sorted(missing)}"


def test_the_docs_name_every_layered_package() -> None:
    page = (ROOT / "docs" / "code-layout.md").read_text(encoding="utf-8")
    missing = [name for name in sorted(_layered_modules()) if f"`drillbook.{name}" not in page]
    assert not missing, f"docs/code-layout.md does not place: {missing}"


@pytest.mark.parametrize(
    ("contract_id", "importer", "imported"),
    [
        # a domain reaching up into a flow (what the FINDING_REPEATS_HOOK string hid)
        ("domains", "drillbook.domain.finding.service", "drillbook.flows.lint_library"),
        ("layers", "drillbook.domain.scenario.models", "drillbook.library.loader"),
        ("layers", "drillbook.documents.yaml_io", "drillbook.domain.scenario.models"),
        ("documents", "drillbook.documents.durations", "drillbook.domain.program.models"),
        ("layers", "drillbook.reports.document", "drillbook.flows.exercise_report"),
        ("domains", "drillbook.domain.drill.service", "drillbook.telemetry.process_events"),
    ],
)
def test_a_wrong_way_import_breaks_a_contract(
    contract_id: str, importer: str, imported: str
) -> None:
    from importlinter import configuration
    from importlinter.contracts.forbidden import ForbiddenContract
    from importlinter.contracts.layers import LayersContract

    configuration.configure()
    declared = _contracts()[contract_id]
    kinds = {"layers": LayersContract, "forbidden": ForbiddenContract}
    options = {k: v for k, v in declared.items() if k not in ("id", "name", "type")}
    contract = kinds[declared["type"]](declared["name"], {"root_packages": ["drillbook"]}, options)
    graph = grimp.build_graph("drillbook")
    assert contract.check(graph, verbose=False).kept
    graph.add_import(importer=importer, imported=imported, line_number=1, line_contents="")
    assert not contract.check(graph, verbose=False).kept
