"""JSON Schemas of the library's YAML files, for editors and CI.

:data:`SCHEMAS` maps a name (what ``drillbook schema NAME`` takes) to the pydantic model
that validates that file; the schema is generated from the model, so it can never drift
from what the loader accepts. Another domain publishes its file by adding one line::

    SCHEMAS["inventory"] = SchemaEntry(Inventory, "inventory.yaml: agents, tools, ...")
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from drillbook.domain.inventory.models import Inventory
from drillbook.domain.program.models import Program
from drillbook.domain.scenario.models import Scenario
from drillbook.errors import NotFoundError

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:drillbook:schema:{kind}"
"""Each schema's ``$id``: a name, not a place (drillbook is used offline; nothing is
fetched)."""


@dataclass(frozen=True)
class SchemaEntry:
    model: type[BaseModel]
    describes: str


SCHEMAS: dict[str, SchemaEntry] = {
    "scenario": SchemaEntry(Scenario, "scenarios/*.yaml: one tabletop scenario"),
    "program": SchemaEntry(Program, "drillbook.yaml: organisation, teams, people, SLA, cadence"),
    "inventory": SchemaEntry(Inventory, "inventory.yaml: agents, tools, customers, teams"),
}


def schema_names() -> list[str]:
    return sorted(SCHEMAS)


def json_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the file kind ``name``."""
    try:
        entry = SCHEMAS[name]
    except KeyError:
        raise NotFoundError(
            f"no schema named '{name}'; known: {', '.join(schema_names())}"
        ) from None
    generated = entry.model.model_json_schema(mode="validation")
    document: dict[str, Any] = {"$schema": JSON_SCHEMA_DIALECT, "$id": SCHEMA_ID.format(kind=name)}
    document.update(generated)
    document.setdefault("description", entry.describes)
    return document
