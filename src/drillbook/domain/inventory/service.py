"""Load ``inventory.yaml`` and check that its names point at things it defines.

Schema errors come from :func:`drillbook.documents.validation.validate`; reference errors
(an agent calling a tool nobody listed, a person in a team that does not exist) are found
here, all at once, each located at the offending value so that the message reads
``inventory.yaml:12:9: agents[0].tools: unknown tool 'crm-rite' (known: crm-write, ...)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from drillbook.config import INVENTORY_FILE
from drillbook.documents.validation import validate
from drillbook.documents.yaml_io import LocPath, load_mapping, problem_at
from drillbook.domain.inventory.models import Inventory
from drillbook.errors import LibraryError, Location, NotFoundError, Problem


def inventory_path(library_root: Path | None, explicit: Path | None = None) -> Path:
    """The inventory file: ``explicit`` or ``<library>/inventory.yaml``."""
    if explicit is not None:
        return explicit
    if library_root is None:
        raise NotFoundError(
            "no inventory: pass --inventory FILE or run inside a library that has "
            f"{INVENTORY_FILE} (see docs/planning.md for the format)"
        )
    return library_root / INVENTORY_FILE


def load_inventory(path: Path) -> Inventory:
    """Read, validate and cross-check ``path``; raise :class:`LibraryError` with locations."""
    if not path.is_file():
        raise LibraryError.single(
            Location(str(path)),
            f"{INVENTORY_FILE} not found; write one (see docs/planning.md) or pass --inventory",
            "missing-file",
        )
    document = load_mapping(path, INVENTORY_FILE)
    inventory = validate(Inventory, document, path)
    problems = reference_problems(inventory, document, path)
    if problems:
        raise LibraryError(problems)
    return inventory


def _unknown(kind: str, name: str, known: Iterable[str]) -> str:
    names = sorted(set(known))
    listed = ", ".join(names[:10]) if names else f"none; add a {kind}s section"
    return f"unknown {kind} '{name}' (known: {listed})"


def _duplicates(path: Path, root: Any, section: str, names: list[str], field: str) -> list[Problem]:
    seen: set[str] = set()
    out = []
    for index, name in enumerate(names):
        if name in seen:
            out.append(
                problem_at(
                    path,
                    root,
                    (section, index, field),
                    f"{section}[{index}]: duplicate {field} '{name}'",
                    "duplicate-name",
                )
            )
        seen.add(name)
    return out


def reference_problems(inventory: Inventory, root: Any, path: Path) -> list[Problem]:
    """Every dangling or duplicate name in the inventory, located in ``root``."""
    problems: list[Problem] = []
    tools = {t.name for t in inventory.tools}
    teams = {t.id for t in inventory.teams}
    services = {s.name for s in inventory.services}
    agents = {a.name for a in inventory.agents}
    products = {p.name for p in inventory.products}

    def check(
        loc: LocPath, kind: str, name: str | None, known: set[str], *, only_if_listed: bool = False
    ) -> None:
        if name is None or name in known or (only_if_listed and not known):
            return
        where = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in loc)
        where = where.replace(".[", "[")
        problems.append(
            problem_at(
                path, root, loc, f"{where}: {_unknown(kind, name, known)}", f"unknown-{kind}"
            )
        )

    for section, names, field in (
        ("agents", [a.name for a in inventory.agents], "name"),
        ("tools", [t.name for t in inventory.tools], "name"),
        ("services", [s.name for s in inventory.services], "name"),
        ("teams", [t.id for t in inventory.teams], "id"),
        ("people", [p.name for p in inventory.people], "name"),
        ("customers", [c.name for c in inventory.customers], "name"),
        ("products", [p.name for p in inventory.products], "name"),
    ):
        problems.extend(_duplicates(path, root, section, names, field))

    for i, agent in enumerate(inventory.agents):
        for j, tool in enumerate(agent.tools):
            check(("agents", i, "tools", j), "tool", tool, tools)
        check(("agents", i, "team"), "team", agent.team, teams, only_if_listed=True)
        for j, team in enumerate(agent.spans_teams):
            check(("agents", i, "spans_teams", j), "team", team, teams, only_if_listed=True)
        check(("agents", i, "product"), "product", agent.product, products)
    for i, listed_tool in enumerate(inventory.tools):
        check(("tools", i, "service"), "service", listed_tool.service, services)
    for i, service in enumerate(inventory.services):
        check(("services", i, "owner_team"), "team", service.owner_team, teams, only_if_listed=True)
    for i, person in enumerate(inventory.people):
        check(("people", i, "team"), "team", person.team, teams, only_if_listed=True)
    for i, customer in enumerate(inventory.customers):
        check(("customers", i, "product"), "product", customer.product, products)
    for i, product in enumerate(inventory.products):
        for j, agent_name in enumerate(product.agents):
            check(("products", i, "agents", j), "agent", agent_name, agents)
    return problems


def _at_section(path: Path | str, section: str) -> Location:
    """Where ``section:`` is written in the inventory (the file's start when unreadable)."""
    try:
        document = load_mapping(Path(path), INVENTORY_FILE)
    except LibraryError:
        return Location(str(path), 1, 1)
    return problem_at(path, document, (section,), "", "", key=True).location


def require_agent(inventory: Inventory, name: str, path: Path | str) -> None:
    """Fail, located at the inventory's ``agents:`` key, when ``name`` is not an agent."""
    if inventory.agent(name) is None:
        raise LibraryError.single(
            _at_section(path, "agents"),
            f"--agent: {_unknown('agent', name, (a.name for a in inventory.agents))} "
            f"in {INVENTORY_FILE}",
            "unknown-agent",
        )


def scoped_to_product(inventory: Inventory, product: str, path: Path | str) -> Inventory:
    """The inventory cut down to one product's agents and their tools (multi-product
    variation of the first seed: rehearse one product first, not the whole company)."""
    found = inventory.product(product)
    if found is None:
        if inventory.products:
            raise LibraryError.single(
                _at_section(path, "products"),
                f"--product: {_unknown('product', product, (p.name for p in inventory.products))}",
                "unknown-product",
            )
        return inventory
    names = set(found.agents) | {a.name for a in inventory.agents if a.product == product}
    agents = [a for a in inventory.agents if a.name in names]
    if not agents:
        raise LibraryError.single(
            _at_section(path, "products"),
            f"product '{product}' has no agents in {INVENTORY_FILE}; list them under "
            "products[].agents",
            "empty-product",
        )
    tool_names = {t for a in agents for t in a.tools}
    customers = [c for c in inventory.customers if c.product in (None, product)]
    return inventory.model_copy(
        update={
            "agents": agents,
            "tools": [t for t in inventory.tools if t.name in tool_names],
            "customers": customers,
        }
    )
