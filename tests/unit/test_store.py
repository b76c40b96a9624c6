"""The store migrates on first use and keeps times in UTC on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select

from drillbook.storage.engine import Store
from drillbook.storage.models import ScenarioRevision


def test_migrations_create_the_core_tables(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {"scenario_revisions", "alembic_version"} <= tables


def test_opening_twice_is_idempotent(database_url: str) -> None:
    Store(database_url).close()
    again = Store(database_url)
    assert "scenario_revisions" in inspect(again.engine).get_table_names()
    again.close()


def test_times_come_back_as_aware_utc(store: Store) -> None:
    moment = datetime(2026, 4, 29, 16, 30, tzinfo=timezone(timedelta(hours=2)))
    with store.session() as session:
        session.add(ScenarioRevision(scenario_id="s", content_hash="h", first_seen=moment))
    with store.session() as session:
        row = session.scalars(select(ScenarioRevision)).one()
    assert row.first_seen == datetime(2026, 4, 29, 14, 30, tzinfo=UTC)
    assert row.first_seen.tzinfo is not None


def test_naive_times_are_refused(store: Store) -> None:
    with pytest.raises(Exception, match="naive datetime"), store.session() as session:
        session.add(
            ScenarioRevision(scenario_id="s", content_hash="h", first_seen=datetime(2026, 1, 1))
        )
        session.flush()


def test_a_failed_unit_of_work_leaves_data_untouched(store: Store) -> None:
    with pytest.raises(RuntimeError), store.session() as session:
        session.add(
            ScenarioRevision(scenario_id="s", content_hash="h", first_seen=datetime.now(UTC))
        )
        session.flush()
        raise RuntimeError("boom")
    with store.session() as session:
        assert session.scalars(select(ScenarioRevision)).all() == []
