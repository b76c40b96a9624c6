"""A read-only unit of work: its output streams (not held for a commit), it does not wait
for SQLite's writers, and a write inside it is refused, on both databases."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from sqlalchemy import Select, insert, select

from drillbook.domain.finding.models import FindingCounter
from drillbook.errors import StoreError
from drillbook.storage.engine import Store


def _value(name: str) -> Select[tuple[int]]:
    return select(FindingCounter.value).where(FindingCounter.name == name)


def test_reading_streams_and_refuses_writes(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(database_url, hold_output=True)
    try:
        out = io.StringIO()
        monkeypatch.setattr(sys, "stdout", out)
        with store.reading() as session:
            print("first line")
            # written through at once: nothing stands in for stdout
            assert sys.stdout is out
            assert out.getvalue() == "first line\n"
            assert session.scalar(_value("x")) is None
        with pytest.raises(StoreError, match="read-only"), store.reading() as session:
            session.add(FindingCounter(name="x", value=1))
        with store.session() as session:
            assert session.scalar(_value("x")) is None
    finally:
        store.close()


def test_reading_does_not_wait_for_a_writer(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'drillbook.db'}", hold_output=True)
    other = Store(f"sqlite:///{tmp_path / 'drillbook.db'}")
    try:
        with other.session() as writing:
            writing.execute(insert(FindingCounter).values(name="n", value=7))
            writing.flush()  # holds SQLite's write lock and the writers' turn
            with store.reading() as session:
                assert session.scalar(_value("n")) is None
        with store.reading() as session:
            assert session.scalar(_value("n")) == 7
    finally:
        store.close()
        other.close()
