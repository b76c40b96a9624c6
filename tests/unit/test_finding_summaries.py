"""The fast `finding list --json` rows equal finding_summary's, value for value."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from drillbook import clock
from drillbook.cli.output import _default
from drillbook.domain.finding.service import (
    create_finding,
    finding_summary,
    list_findings,
    set_status,
)
from drillbook.domain.finding.summaries import iso_day, iso_moment, iter_summaries
from drillbook.storage.engine import Store


def _as_json(value: Any) -> str:
    return json.dumps(value, default=_default, ensure_ascii=False)


def _seed(store: Store) -> None:
    today = clock.today()
    with store.session() as session:
        plain = create_finding(
            session, description="plain <b>gap</b> ünïcode", severity="low", source="drill"
        )
        late = create_finding(
            session,
            description="overdue",
            severity="critical",
            source="exercise",
            owner="alice",
            team="sre",
            target_date=today - timedelta(days=3),
            capability="on_call",
            extra={"_inferred": ["capability"]},
        )
        late.due_date = today - timedelta(days=1)
        moved = create_finding(
            session, description="moved", severity="high", source="drill", owner="bob"
        )
        set_status(session, moved, "in_progress", note="started", author="bob")
        set_status(session, moved, "resolved", note="done", source_ref="PR-1", author="bob")
        risky = create_finding(
            session, description="risk", severity="medium", source="drill", owner="c"
        )
        set_status(
            session, risky, "risk_accepted", note="accepted", expires=today + timedelta(days=5)
        )
        session.flush()
        assert plain.id


def test_fast_summaries_equal_finding_summary(store: Store) -> None:
    _seed(store)
    with store.session() as session:
        expected = [_as_json(finding_summary(f)) for f in list_findings(session)]
        fast = [_as_json(s) for s in iter_summaries(session, page=2)]
        assert fast == expected
        assert [_as_json(s) for s in iter_summaries(session, after=1, limit=2)] == expected[1:3]
        overdue = [s["id"] for s in iter_summaries(session, overdue=True)]
        assert overdue == [json.loads(e)["id"] for e in expected if json.loads(e)["overdue"]]
        assert overdue


def test_iso_conversions_match_python() -> None:
    moment = clock.now().replace(microsecond=0)
    assert iso_moment(moment.strftime("%Y-%m-%d %H:%M:%S.%f")) == moment.isoformat()
    odd = moment.replace(microsecond=120)
    assert iso_moment(odd.strftime("%Y-%m-%d %H:%M:%S.%f")) == odd.isoformat()
    assert iso_moment(odd) == odd.isoformat()
    assert iso_moment("2026-01-02 03:04:05") == "2026-01-02T03:04:05+00:00"
    assert iso_day("2026-01-02") == "2026-01-02"
    assert iso_day(None) is None
    assert iso_moment(None) is None
