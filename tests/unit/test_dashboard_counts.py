"""The dashboard's tiles, counted by the database, say what the objects say: for an admin,
team members and an account without a team, on random histories, on both databases."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time

import pytest
from sqlalchemy import insert

from drillbook import clock
from drillbook.domain.account.access import Principal, visible
from drillbook.domain.account.enums import AccountRole
from drillbook.domain.drill.models import DrillRun
from drillbook.domain.drill.service import list_runs
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.exercise.service import list_exercises
from drillbook.domain.finding.models import Finding
from drillbook.domain.finding.service import list_findings
from drillbook.flows.dashboard import dashboard_counts
from drillbook.storage.engine import Store
from tests.unit.test_program_metrics_random import TODAY, _history

VIEWERS = [
    Principal("admin", role=AccountRole.ADMIN, username="admin", account_id=1),
    Principal("a", role=AccountRole.MEMBER, team="alpha", username="a", account_id=2),
    Principal("b", role=AccountRole.FACILITATOR, team="Beta", username="b", account_id=3),
    Principal("n", role=AccountRole.MEMBER, team=None, username="n", account_id=4),
    Principal("z", role=AccountRole.MEMBER, team="nobody's", username="z", account_id=5),
]


def _by_objects(store: Store, viewer: Principal) -> tuple[int, int, dict[str, int], list[int]]:
    """What the dashboard computed from objects before (drills without its 10,000 cap)."""
    with store.session() as session:
        exercises = visible(viewer, list_exercises(session), lambda e: e.team)
        drills = visible(viewer, list_runs(session, limit=1_000_000), lambda r: r.team)
        active = visible(viewer, list_findings(session, active=True), lambda f: f.team)
        findings = {
            "open": len(active),
            "overdue": sum(1 for f in active if f.overdue),
            "critical": sum(1 for f in active if f.severity == "critical"),
        }
        live = [e.id for e in exercises if e.status in ("running", "paused")]
        return len(exercises), len(drills), findings, live


@pytest.mark.parametrize("seed", [3, 17])
def test_tiles_equal_the_objects_counts(store: Store, seed: int) -> None:
    rng = random.Random(seed)
    exercises, findings, drills = _history(rng, 400)
    for row in exercises[::6]:
        row["status"] = "paused"
    with store.engine.begin() as connection:
        connection.execute(insert(Exercise.__table__), exercises)
        connection.execute(insert(Finding.__table__), findings)
        connection.execute(insert(DrillRun.__table__), drills)
    fake = clock.FakeClock(datetime.combine(TODAY, time(12), tzinfo=UTC))
    seen = set()
    with clock.use_clock(fake):
        for viewer in VIEWERS:
            expected = _by_objects(store, viewer)
            with store.reading() as session:
                got = dashboard_counts(session, viewer)
            assert (got.exercises, got.drills, got.findings, [x["id"] for x in got.live]) == (
                expected
            ), viewer
            assert all(x["label"] == f"EX-{x['id']}" for x in got.live)
            seen.add((got.exercises, got.findings["open"]))
    # the scopes differ (a test where every viewer saw the same proves little)
    assert len(seen) >= 3
    every = _by_objects(store, VIEWERS[0])[2]
    assert every["overdue"]
    assert every["critical"]
