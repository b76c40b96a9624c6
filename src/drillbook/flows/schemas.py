"""JSON Schemas of every document kind drillbook reads or writes, and the editor settings
that use them.

The library's own kinds (scenario, program, inventory) are registered in
:mod:`drillbook.library.schema`; this flow adds the kinds that live in higher layers
(drill plans, safety profiles, findings documents, scorecards) and the strict
``drillbook.yaml`` with every section. Each schema carries an ``$id``
(``urn:drillbook:schema:<kind>``) and durations carry their pattern. ``drillbook init``
writes them into the library's ``schemas/`` folder and points the editor at them
(``.vscode/settings.json`` for the YAML language server), so a typo is underlined while
it is typed, with the same rules as ``drillbook lint``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import RootModel

from drillbook.domain.drill.plan import DrillPlan, SafetyProfileFile, TechniqueList
from drillbook.domain.finding.documents import FindingsDocument
from drillbook.domain.scorecard.document import Scorecard
from drillbook.flows.lint_paths import ProgramDocument
from drillbook.library.schema import SCHEMAS, SchemaEntry, json_schema, schema_names


class DrillFile(RootModel[DrillPlan | TechniqueList]):
    """A file in ``drills/``: a plan mapping, or the seed's list of techniques."""


SCHEMAS.update(
    {
        "program": SchemaEntry(
            ProgramDocument,
            "drillbook.yaml: organisation, teams, people, SLA, cadence, detection, trackers, "
            "notify, llm",
        ),
        "drill": SchemaEntry(DrillFile, "drills/*.yaml: a drill plan (or a technique list)"),
        "safety-profile": SchemaEntry(SafetyProfileFile, "a safety profile file (safety: ...)"),
        "findings": SchemaEntry(
            FindingsDocument, "findings/<scenario>-run-<date>.yaml: a tabletop's findings"
        ),
        "scorecard": SchemaEntry(
            Scorecard, "drill-results/<date>-<plan>.yaml: a drill's detection scorecard"
        ),
    }
)

FILE_GLOBS: dict[str, list[str]] = {
    "scenario": ["scenarios/*.yaml", "scenarios/**/*.yaml"],
    "program": ["drillbook.yaml"],
    "inventory": ["inventory.yaml"],
    "drill": ["drills/*.yaml", "drills/**/*.yaml"],
    "findings": ["findings/*.yaml"],
    "scorecard": ["drill-results/*.yaml"],
}
"""Which library files each schema describes (safety profiles sit in drills/ and are
matched by the drill schema's plan ``safety`` key, or checked by ``drillbook lint``)."""

SCHEMA_DIR = "schemas"


def kinds() -> list[str]:
    return schema_names()


def schema_for(kind: str) -> dict[str, Any]:
    return json_schema(kind)


def write_editor_settings(root: Path, *, force: bool = False) -> list[Path]:
    """Write ``schemas/<kind>.json`` and, unless it exists (or ``force``),
    ``.vscode/settings.json`` mapping library files to them. Returns what was written."""
    written = []
    folder = root / SCHEMA_DIR
    folder.mkdir(parents=True, exist_ok=True)
    for kind in kinds():
        path = folder / f"{kind}.json"
        path.write_text(json.dumps(schema_for(kind), indent=2) + "\n", encoding="utf-8")
        written.append(path)
    settings = root / ".vscode" / "settings.json"
    if force or not settings.exists():
        mapping = {f"./{SCHEMA_DIR}/{kind}.json": globs for kind, globs in FILE_GLOBS.items()}
        settings.parent.mkdir(parents=True, exist_ok=True)
        settings.write_text(
            json.dumps({"yaml.schemas": mapping, "yaml.validate": True}, indent=2) + "\n",
            encoding="utf-8",
        )
        written.append(settings)
    return written
