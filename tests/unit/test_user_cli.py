"""`drillbook user add/list` and the tour's demo login."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drillbook.cli.user import user_app
from drillbook.storage.engine import Store


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    monkeypatch.setenv("DRILLBOOK_DATABASE_URL", url)
    return url


def test_user_add_creates_an_account_that_can_sign_in(db_env: str, runner: CliRunner) -> None:
    from drillbook.domain.account.service import authenticate

    made = runner.invoke(user_app, ["add", "olga", "--password-stdin"], input="a long passphrase\n")
    assert made.exit_code == 0, made.output
    assert "Created admin account olga" in made.output
    generated = runner.invoke(
        user_app,
        ["add", "fred", "--role", "facilitator", "--team", "sre", "--generate-password", "--json"],
    )
    data = json.loads(generated.output)
    assert data["role"] == "facilitator"
    assert data["team"] == "sre"
    assert len(data["password"]) >= 16
    store = Store(db_env)
    with store.session() as session:
        assert authenticate(session, "olga", "a long passphrase").role == "admin"
        assert authenticate(session, "fred", data["password"]).team == "sre"
        stored = (
            session.execute(__import__("sqlalchemy").text("SELECT password_hash FROM accounts"))
            .scalars()
            .all()
        )
        assert all(h.startswith("$argon2id$") for h in stored)
    store.close()
    listed = json.loads(runner.invoke(user_app, ["list", "--json"]).output)
    assert [row["username"] for row in listed] == ["fred", "olga"]
    assert "password" not in json.dumps(listed)


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["add", "olga", "--password-stdin"], "short\n", "at least 10 characters"),
        (["add", "Bad Name!", "--password-stdin"], "a long passphrase\n", "not a usable username"),
        (["add", "mia", "--role", "member", "--password-stdin"], "a long passphrase\n", "--team"),
        (
            ["add", "mia", "--role", "boss", "--password-stdin"],
            "a long passphrase\n",
            "unknown role",
        ),
    ],
)
def test_user_add_refuses_bad_input_clearly(
    db_env: str, runner: CliRunner, args: list[str], stdin: str, message: str
) -> None:
    result = runner.invoke(user_app, args, input=stdin)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_second_account_with_the_same_name_is_refused(db_env: str, runner: CliRunner) -> None:
    runner.invoke(user_app, ["add", "olga", "--password-stdin"], input="a long passphrase\n")
    again = runner.invoke(
        user_app, ["add", "OLGA", "--password-stdin"], input="a long passphrase\n"
    )
    assert again.exit_code == 1
    assert "already exists" in again.output


def test_the_tour_makes_a_demo_login(tmp_path: Path) -> None:
    from drillbook.cli.tour import create_demo_login
    from drillbook.domain.account.service import authenticate
    from drillbook.storage.engine import open_store

    (tmp_path / "drillbook.yaml").write_text("organisation: Demo\n")
    login = create_demo_login(tmp_path)
    assert login is not None
    store = open_store(tmp_path)
    with store.session() as session:
        assert authenticate(session, *login).role == "admin"
    store.close()
    assert create_demo_login(tmp_path) is None  # a second tour in the same folder


def test_api_tokens_are_shown_once_stored_as_digests_and_revocable(
    db_env: str, runner: CliRunner
) -> None:
    from sqlalchemy import select

    from drillbook.domain.account.models import Account, ApiToken
    from drillbook.domain.account.tokens import authenticate_token
    from drillbook.errors import AccessDenied

    made = runner.invoke(
        user_app, ["add", "fred", "--role", "member", "--team", "sre", "--generate-password"]
    )
    assert made.exit_code == 0, made.output
    issued = runner.invoke(user_app, ["token", "fred", "--client", "ide-agent", "--json"])
    assert issued.exit_code == 0, issued.output
    secret = json.loads(issued.output)["token"]
    assert secret.startswith("dbk_")
    shown = runner.invoke(user_app, ["token", "FRED"])
    assert "shown once" in shown.output
    bad_client = runner.invoke(user_app, ["token", "fred", "--client", "../x y"])
    assert bad_client.exit_code != 0
    assert "not a usable client name" in bad_client.output
    nobody = runner.invoke(user_app, ["token", "nobody"])
    assert nobody.exit_code != 0
    assert "no account 'nobody'" in nobody.output
    store = Store(db_env)
    try:
        with store.session() as session:
            rows = list(session.scalars(select(ApiToken)))
            assert all(secret not in (r.token_digest, r.client) for r in rows)
            account, token = authenticate_token(session, secret)
            assert (account.username, token.client) == ("fred", "ide-agent")
            for wrong in ("", "dbk_short", secret + "x", "Bearer " + secret, secret.upper()):
                with pytest.raises(AccessDenied):
                    authenticate_token(session, wrong)
        listed = json.loads(runner.invoke(user_app, ["tokens", "--json"]).output)
        assert [(t["username"], t["client"], t["revoked"]) for t in listed] == [
            ("fred", "ide-agent", False),
            ("fred", "mcp-agent", False),
        ]
        assert secret not in runner.invoke(user_app, ["tokens"]).output
        revoked = runner.invoke(user_app, ["revoke-token", str(listed[0]["id"])])
        assert revoked.exit_code == 0, revoked.output
        assert runner.invoke(user_app, ["revoke-token", "999"]).exit_code != 0
        with store.session() as session, pytest.raises(AccessDenied):
            authenticate_token(session, secret)
        # a disabled account's other tokens stop working too
        second = json.loads(runner.invoke(user_app, ["token", "fred", "--json"]).output)["token"]
        with store.session() as session:
            assert authenticate_token(session, second)[0].username == "fred"
            account = session.scalars(select(Account).where(Account.username == "fred")).one()
            account.disabled = True
        with store.session() as session, pytest.raises(AccessDenied):
            authenticate_token(session, second)
    finally:
        store.close()
