"""Command: scenario generate (a scenario tailored to the inventory)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from drillbook.cli.app import scenario_app
from drillbook.cli.context import state
from drillbook.cli.files import is_stdio, write_output
from drillbook.cli.output import console, err_console
from drillbook.domain.inventory.models import CustomerProfile
from drillbook.domain.inventory.service import (
    inventory_path,
    load_inventory,
    require_agent,
    scoped_to_product,
)
from drillbook.domain.scenario.enums import Category
from drillbook.errors import ConflictError
from drillbook.library.loader import SCENARIO_DIR
from drillbook.planning.generate import GenerateRequest, generate_scenario, scenario_text


@scenario_app.command("generate")
def generate(
    ctx: typer.Context,
    category: Annotated[
        Category,
        typer.Option("--type", "-t", help="Incident type to rehearse.", case_sensitive=False),
    ],
    agent: Annotated[
        str | None, typer.Option("--agent", help="Agent name from inventory.yaml.")
    ] = None,
    customer_profile: Annotated[
        CustomerProfile | None,
        typer.Option("--customer-profile", help="Override the inventory's customer profile."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Same seed, same file.")] = 0,
    duration: Annotated[
        int, typer.Option("--duration", min=20, max=480, help="Minutes of the session.")
    ] = 60,
    product: Annotated[
        str | None, typer.Option("--product", help="Scope to one product's agents.")
    ] = None,
    inventory_file: Annotated[
        Path | None, typer.Option("--inventory", help="Default: <library>/inventory.yaml.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="Write here ('-' for stdout). Default: the library's scenarios/<id>.yaml.",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    llm: Annotated[
        bool,
        typer.Option(
            "--llm",
            help="Ask an OpenAI-compatible endpoint to rewrite the "
            "prose (DRILLBOOK_LLM_URL); falls back to the deterministic text.",
        ),
    ] = False,
    llm_url: Annotated[
        str | None, typer.Option("--llm-url", help="Endpoint base URL; default DRILLBOOK_LLM_URL.")
    ] = None,
) -> None:
    """Write a scenario for --type built from your real agents, tools, people and channels."""
    cli = state(ctx)
    root = cli.library_root(required=inventory_file is None or output is None)
    path = inventory_path(root, inventory_file)
    inventory = load_inventory(path)
    if product:
        inventory = scoped_to_product(inventory, product, path)
    if agent is not None:
        require_agent(inventory, agent, path)
    scenario = generate_scenario(
        inventory,
        GenerateRequest(
            category=category,
            seed=seed,
            agent=agent,
            customer_profile=customer_profile,
            duration_minutes=duration,
        ),
    )
    if llm:
        from drillbook.planning.llm import rewrite_prose  # httpx: only when --llm is asked
        from drillbook.planning.llm_client import EXCHANGE_DIR, resolve_endpoint, save_exchange

        program = cli.library(required=False).program if root is not None else None
        endpoint = resolve_endpoint(program.llm if program else None, llm_url)
        result = rewrite_prose(
            scenario,
            url=endpoint.url,
            model=endpoint.model,
            api_key=endpoint.api_key,
            timeout=endpoint.timeout,
        )
        err_console.print(
            ("note: " if result.rewritten else "warning: ") + result.notice, markup=False
        )
        if root is not None and result.exchange is not None:
            kept = save_exchange(root / EXCHANGE_DIR, result.exchange)
            err_console.print(f"note: what was sent and received is in {kept}", markup=False)
        scenario = result.scenario
    text = scenario_text(scenario)
    if output is not None and is_stdio(output):
        write_output(None, text)
        return
    target = output
    if target is None:
        assert root is not None
        target = root / SCENARIO_DIR / f"{scenario.id}.yaml"
    if target.is_file() and not force:
        raise ConflictError(
            f"{target} already exists; pass --force to overwrite it or "
            "--seed N for a different scenario"
        )
    write_output(target, text)
    console.print(f"wrote {target} ({scenario.id}: {scenario.title})", markup=False)
