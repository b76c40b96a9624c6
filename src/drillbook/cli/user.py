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


@user_app.command("token")
def token(
    ctx: typer.Context,
    username: Annotated[str, typer.Argument(help="The account the agent acts for.")],
    client: Annotated[
        str,
        typer.Option("--client", "-c", help="The agent's name in the audit log (e.g. ide-agent)."),
    ] = "mcp-agent",
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Issue an API token for the MCP server over HTTP (shown once; only a digest is kept)."""
    from drillbook.domain.account.tokens import account_named, issue_token

    with state(ctx).store().session() as session:
        issued, secret = issue_token(session, account_named(session, username), client=client)
        shown = {"id": issued.id, "username": username.strip().lower(), "client": issued.client}
    if as_json:
        print_json({**shown, "token": secret})
        return
    console.print(
        f"API token {shown['id']} for {shown['username']} (client {shown['client']}); "
        "shown once, send it as 'Authorization: Bearer TOKEN':",
        markup=False,
    )
    console.print(secret, markup=False, soft_wrap=True)


@user_app.command("tokens")
def tokens(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """List the API tokens (account, client, revoked; never the secrets)."""
    from drillbook.domain.account.service import list_accounts
    from drillbook.domain.account.tokens import list_tokens

    with state(ctx).store().session() as session:
        names = {a.id: a.username for a in list_accounts(session)}
        rows = [
            {
                "id": t.id,
                "username": names.get(t.account_id, "?"),
                "client": t.client,
                "created_at": t.created_at.isoformat(),
                "revoked": t.revoked,
            }
            for t in list_tokens(session)
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("No API tokens yet: `drillbook user token NAME --client AGENT`", markup=False)
    for row in rows:
        revoked = "  revoked" if row["revoked"] else ""
        console.print(f"{row['id']}  {row['username']}  {row['client']}{revoked}", markup=False)


@user_app.command("revoke-token")
def revoke(
    ctx: typer.Context,
    token_id: Annotated[int, typer.Argument(help="The token's id (see `drillbook user tokens`).")],
) -> None:
    """Revoke an API token: the next request with it is refused."""
    from drillbook.domain.account.tokens import revoke_token

    with state(ctx).store().session() as session:
        revoked = revoke_token(session, token_id)
        console.print(f"Revoked API token {revoked.id} ({revoked.client})", markup=False)
