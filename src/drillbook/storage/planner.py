"""Tell PostgreSQL's planner what it cannot know: that a grouping has few groups.

The metrics' gap grouping reduces 100,000 findings to a few thousand groups, but its keys
are expressions over a join (the team of the exercise, the gap built from rule and
technique), for which PostgreSQL has no statistics: it guesses a group per row, finds
that a hash table of 100,000 groups would not fit in ``work_mem``, and sorts every row
on six keys instead (an external merge on disk, 0.3 to 0.5 s, against 0.2 s hashing).
:func:`grouping_by_hash` turns sorting off for one statement's planning, so the planner
hashes (spilling to disk in batches if the groups are many after all); the setting is
put back after the statement, whatever else the transaction runs. SQLite has one way
to group and nothing to say.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection


@contextmanager
def grouping_by_hash(connection: Connection) -> Iterator[None]:
    """Plan the statements run inside with hash aggregation on PostgreSQL (``enable_sort``
    off for this transaction, then as it was). A statement that fails leaves the setting
    to the transaction's rollback, which undoes it (an aborted transaction takes no more
    commands)."""
    if connection.dialect.name != "postgresql":
        yield
        return
    was = connection.exec_driver_sql("SELECT current_setting('enable_sort')").scalar_one()
    connection.exec_driver_sql("SELECT set_config('enable_sort', 'off', true)").close()
    yield
    connection.exec_driver_sql(
        "SELECT set_config('enable_sort', %(was)s, true)", {"was": str(was)}
    ).close()
