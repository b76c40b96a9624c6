"""Helpers for web tests: a client on an allowed Host, accounts, signing in."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from drillbook.domain.account import service as account_service
from drillbook.storage.engine import Store
from drillbook.web.app import create_app

# Test accounts are hashed with the cheapest argon2id parameters: the real ones cost
# most of a second per hash on a loaded 2-core machine, and the suite makes hundreds.
# (Servers started in another process, as in the e2e tests, keep the real parameters.)
account_service._HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

PASSWORD = "correct horse battery staple"
BASE_URL = "http://127.0.0.1"


def add_account(store: Store, username: str, role: str, team: str | None = None) -> None:
    from drillbook.domain.account.service import create_account

    with store.session() as session:
        create_account(
            session,
            username=username,
            password=PASSWORD,
            role=role,
            team=team,
            display_name=username.capitalize(),
        )


def csrf_of(client: TestClient) -> str:
    page = client.get("/login")
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(client: TestClient, username: str) -> str:
    """Sign in and return the session's CSRF token."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    done = client.post(
        "/login", data={"username": username, "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert done.status_code == 200, done.text
    found = re.search(r'name="csrf-token" content="([^"]+)"', done.text)
    assert found
    return found.group(1)


def client_for(
    library: Path | None,
    store: Store,
    username: str | None = None,
    role: str = "admin",
    team: str | None = None,
) -> tuple[TestClient, str]:
    """A client (signed in as ``username`` with ``role``, created here, when given)."""
    client = TestClient(create_app(library, store), base_url=BASE_URL)
    if username is None:
        return client, ""
    add_account(store, username, role, team)
    return client, sign_in(client, username)


def walk_api_pages(client: TestClient, path: str, size: int) -> list[Any]:
    """Every item of a paged API list (``path?limit=size``, then ``&cursor=`` from each
    page's ``X-Next-Cursor``), checking each page's size and its ``Link`` header."""
    items: list[Any] = []
    url = f"{path}?limit={size}"
    while True:
        response = client.get(url)
        assert response.status_code == 200, response.text
        batch = response.json()
        assert len(batch) <= size
        items += batch
        cursor = response.headers.get("x-next-cursor")
        if not cursor:
            assert "link" not in response.headers
            return items
        assert f"cursor={cursor}" in response.headers["link"]
        url = f"{path}?limit={size}&cursor={cursor}"
