"""grouping_by_hash: PostgreSQL hashes a grouping it would have sorted, and the setting
is back as it was afterwards, on the unit of work's own connection and on its twin."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, literal_column, select

from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.service import create_finding
from drillbook.storage.engine import Store
from drillbook.storage.planner import grouping_by_hash
from drillbook.storage.twin import rows_beside


def _seed(store: Store) -> None:
    with store.session() as session:
        for number in range(30):
            create_finding(
                session,
                description=f"gap {number % 4}",
                severity=("low", "high")[number % 2],
                source="drill",
                owner=f"owner {number % 3}",
            )


def _grouping() -> Any:
    # keys that are expressions: PostgreSQL has no statistics for them
    return select(Finding.owner + literal_column("'/'") + Finding.severity, func.count()).group_by(
        Finding.owner + literal_column("'/'") + Finding.severity
    )


def _enable_sort(connection: Any) -> str:
    return str(connection.exec_driver_sql("SHOW enable_sort").scalar_one())


# PostgreSQL's planner only (the conftest fixture's postgres parameter, with its mark)
only_postgres = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


# keys with no statistics and a text aggregate: planned as a sort of every row, as the
# (%% is the driver's escape: it sends one)
# metrics' gap grouping was
SPREAD = (
    "SELECT (g %% 10)::text AS a, (g %% 7)::text AS b, (g %% 3)::text AS c, "
    "string_agg(g::text, ',') AS ids "
    "FROM generate_series(1, 20000) AS g GROUP BY 1, 2, 3"
)


@only_postgres
def test_postgres_hashes_inside_and_restores_the_setting(store: Store, fake_clock: Any) -> None:
    with store.reading() as session:
        connection = session.connection()
        connection.exec_driver_sql("SET LOCAL work_mem = '64kB'")
        before = _plan(connection)
        rows = _groups(connection)
        assert _enable_sort(connection) == "on"
        with grouping_by_hash(connection):
            assert _enable_sort(connection) == "off"
            inside = _plan(connection)
            hashed = _groups(connection)
        assert _enable_sort(connection) == "on"
        assert "GroupAggregate" in before, before
        assert "HashAggregate" in inside, inside
        assert hashed == rows
        assert len(rows) == 210
        # already off (someone's own tuning): left off
        connection.exec_driver_sql("SET LOCAL enable_sort = off")
        with grouping_by_hash(connection):
            pass
        assert _enable_sort(connection) == "off"


def _groups(connection: Any) -> list[tuple[str, str, str, list[int]]]:
    """The groups with their ids in number order (string_agg's order is the plan's)."""
    return sorted(
        (a, b, c, sorted(int(i) for i in ids.split(",")))
        for a, b, c, ids in connection.exec_driver_sql(SPREAD)
    )


def _plan(connection: Any) -> str:
    return "\n".join(str(r[0]) for r in connection.exec_driver_sql("EXPLAIN " + SPREAD))


def test_rows_beside_with_hash_grouping_gives_the_same_rows(store: Store, fake_clock: Any) -> None:
    """On the twin (a thread) and without one, on both databases: the same groups, and the
    unit of work's connection keeps its setting."""
    _seed(store)
    with store.reading() as session:
        plain = sorted(session.connection().execute(_grouping()).all())
    for twin in (True, False):
        with store.reading(twin=twin) as session:
            hashed = sorted(rows_beside(session, _grouping(), hash_grouping=True)())
            if store.engine.dialect.name == "postgresql":
                assert _enable_sort(session.connection()) == "on"
        assert hashed == plain
        assert sum(count for _key, count in hashed) == 30


@only_postgres
def test_a_failing_statement_leaves_the_setting_to_the_rollback(
    store: Store, fake_clock: Any
) -> None:
    with store.engine.connect() as connection:
        with (
            pytest.raises(Exception, match="division by zero"),
            connection.begin(),
            grouping_by_hash(connection),
        ):
            connection.exec_driver_sql("SELECT 1 / 0")
        assert _enable_sort(connection) == "on"
