"""Commands: user (web app accounts).

``drillbook user add`` creates the first admin; admins then create the others the same
way.
"""

from __future__ import annotations

import secrets
import sys
from typing import Annotated

import typer

from drillbook.cli.app import user_app
from drillbook.cli.context import state
from drillbook.cli.output import console, print_json


def _password(password_stdin: bool, generate: bool) -> tuple[str, bool]:
    """The new password, and whether drillbook made it up (then it is printed once)."""
    if generate:
        return secrets.token_urlsafe(15), True
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n"), False
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True), False


@user_app.command("add")
def add(
    ctx: typer.Context,
    username: Annotated[
        str, typer.Argument(help="Login name (lower-case letters, digits, . _ -).")
    ],
    role: Annotated[
        str, typer.Option("--role", "-r", help="admin, facilitator, member or viewer.")
    ] = "admin",
    team: Annotated[
        str | None,
        typer.Option("--team", "-t", help="The team the account belongs to (all but admins)."),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    generate: Annotated[
        bool, typer.Option("--generate-password", help="Make up a password and print it once.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Create a web app account (the first one: an admin); only an argon2 hash is kept."""
    from drillbook.domain.account.service import create_account

    password, made_up = _password(password_stdin, generate)
    with state(ctx).store().session() as session:
        account = create_account(
            session, username=username, password=password, role=role, team=team, display_name=name
        )
        shown = {
            "username": account.username,
            "role": account.role,
            "team": account.team,
            "display_name": account.display_name,
        }
    if as_json:
        print_json({**shown, **({"password": password} if made_up else {})})
        return
    console.print(
        f"Created {shown['role']} account {shown['username']}"
        + (f" in team {shown['team']}" if shown["team"] else ""),
        markup=False,
    )
    if made_up:
        console.print(f"Password (shown once): {password}", markup=False)


@user_app.command("list")
def list_users(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List the web app accounts (never their passwords)."""
    from drillbook.domain.account.service import list_accounts

    with state(ctx).store().session() as session:
        rows = [
            {
                "username": a.username,
                "display_name": a.display_name,
                "role": a.role,
                "team": a.team,
                "disabled": a.disabled,
            }
            for a in list_accounts(session)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("No accounts yet: `drillbook user add NAME --role admin`", markup=False)
    for row in rows:
        team = f" ({row['team']})" if row["team"] else ""
        console.print(
            f"{row['username']}  {row['role']}{team}  {row['display_name']}", markup=False
        )
