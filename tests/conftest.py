"""Fixtures for the whole suite.

``store`` runs every store test on SQLite, and again on PostgreSQL when
``DRILLBOOK_TEST_DATABASE_URL`` is set (each test gets its own schema there, dropped
afterwards, so tests never see each other's rows).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from drillbook import clock
from drillbook.storage.engine import Store
from tests.helpers import SEED, require

PG_URL = os.environ.get("DRILLBOOK_TEST_DATABASE_URL", "")


@pytest.fixture
def fake_clock() -> Iterator[clock.FakeClock]:
    fake = clock.FakeClock()
    with clock.use_clock(fake):
        yield fake


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options=-csearch_path%3D{schema}"


def _normalise(url: str) -> str:
    return (
        "postgresql+psycopg://" + url.removeprefix("postgresql://")
        if url.startswith("postgresql://")
        else url
    )


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: SQLite in tmp_path, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'drillbook.db'}"
        return
    require(bool(PG_URL), "DRILLBOOK_TEST_DATABASE_URL is not set (CI sets it)")
    base = _normalise(PG_URL)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(base, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = Store(database_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """A store on SQLite only, for tests that are not about the database."""
    opened = Store(f"sqlite:///{tmp_path / 'drillbook.db'}")
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def seed_dir() -> Path:
    return SEED


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's own library, database or atomics by accident."""
    for name in (
        "DRILLBOOK_LIBRARY",
        "DRILLBOOK_DATABASE_URL",
        "DRILLBOOK_ATOMICS_PATH",
        "DRILLBOOK_LLM_URL",
        "DRILLBOOK_WEBHOOK_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


# Hypothesis: no per-example deadline. The machine running the suite is shared and noisy
# (two cores, parallel workers); a slow example is not a failure, a wrong one is.
settings.register_profile("drillbook", deadline=None)
settings.load_profile("drillbook")
