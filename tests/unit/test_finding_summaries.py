"""`finding list --json` written by the database equals finding_summary's JSON, byte for
byte, on SQLite and PostgreSQL: awkward text, nulls, large numbers, microseconds and
same-moment history included."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert, update

from drillbook import clock
from drillbook.cli.output import _default
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.finding.models import Finding, FindingEvent
from drillbook.domain.finding.service import (
    create_finding,
    finding_summary,
    list_findings,
    set_status,
)
from drillbook.domain.finding.summaries import iter_summary_texts, summary_fields
from drillbook.domain.finding.views import FindingView
from drillbook.storage.engine import Store

AWKWARD = 'quote " backslash \\ tab \t newline \n cr \r bell \x07 esc \x1b del \x7f'
UNICODE = "ünïcode ✓ 日本語 \u2028 \U0001f600 <b>&amp;</b> ' single"


def _as_json(value: Any) -> str:
    """What the CLI writes for one item (cli.streaming): compact JSON."""
    return json.dumps(value, default=_default, ensure_ascii=False, separators=(",", ":"))


def _seed(store: Store) -> None:
    today = clock.today()
    with store.session() as session:
        session.execute(
            insert(Exercise),
            [
                {
                    "id": 2_000_000_001,  # a large id
                    "scenario_id": "s",
                    "title": "t",
                    "status": "reported",
                    "run_date": today,
                    "created_at": clock.now(),
                    "participants": [],
                    "next_actions": [],
                }
            ],
        )
        plain = create_finding(
            session, description=f"plain {UNICODE}", severity="low", source="drill"
        )
        late = create_finding(
            session,
            description=AWKWARD,
            severity="critical",
            source="exercise",
            owner='al"ice',
            team="sre\nops",
            target_date=today - timedelta(days=3),
            capability="on_call",
            exercise_id=2_000_000_001,
            extra={"_inferred": ["capability", 7]},
        )
        late.due_date = today - timedelta(days=1)
        moved = create_finding(
            session,
            description="moved",
            severity="high",
            source="drill",
            owner="bob",
            proposed_remediation=UNICODE,
        )
        set_status(session, moved, "in_progress", note=AWKWARD, author="b\u00f6b")
        set_status(session, moved, "resolved", note="done", source_ref="PR-1", author="bob")
        risky = create_finding(
            session, description="risk", severity="medium", source="drill", owner="c"
        )
        set_status(
            session, risky, "risk_accepted", note="accepted", expires=today + timedelta(days=5)
        )
        odd = create_finding(
            session,
            description="odd extra",
            severity="medium",
            source="incident",
            extra={"_inferred": "not a list", "other": [1, 2]},
        )
        session.flush()
        # whole seconds (no .ffffff), microseconds with trailing zeros, and two history
        # rows at the same moment written out of id order relative to an earlier one
        moment = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
        session.execute(
            update(Finding)
            .where(Finding.id == odd.id)
            .values(created_at=moment, closed_at=moment.replace(microsecond=120000))
        )
        session.execute(
            insert(FindingEvent),
            [
                {"finding_id": odd.id, "at": moment + timedelta(hours=1), "kind": "note"},
                {"finding_id": odd.id, "at": moment, "kind": "note", "text": "b"},
                {"finding_id": odd.id, "at": moment, "kind": "note", "text": "a"},
            ],
        )
        assert plain.id
        assert late.id


def test_database_json_equals_finding_summary(store: Store) -> None:
    _seed(store)
    with store.session() as session:
        expected = [_as_json(finding_summary(f)) for f in list_findings(session)]
    assert len(expected) == 5
    with store.reading() as session:
        fast = [text for _, text in iter_summary_texts(session, page=2)]
        assert fast == expected
        assert [t for _, t in iter_summary_texts(session, after=1, limit=2)] == expected[1:3]
        overdue = [i for i, _ in iter_summary_texts(session, overdue=True)]
        assert overdue == [json.loads(e)["id"] for e in expected if json.loads(e)["overdue"]]
        assert overdue
    # the awkward values really are in there (not lost on the way)
    values = [json.loads(e) for e in expected]
    assert values[1]["description"] == AWKWARD
    assert values[1]["inferred"] == ["capability", "7"]
    assert values[1]["exercise_id"] == 2_000_000_001
    assert [h["text"] for h in values[4]["history"][:2]] == ["b", "a"]  # by time, then id
    assert values[4]["created_at"] == "2026-03-04T05:06:07+00:00"
    assert values[4]["closed_at"] == "2026-03-04T05:06:07.120000+00:00"


def test_summary_fields_are_the_read_models() -> None:
    """The fields the database writes are FindingView's (the web API's and MCP's), in its
    order, with the history in place of the tracker links."""
    viewed = [name for name in FindingView.model_fields if name != "trackers"]
    assert summary_fields() == [*viewed, "history"]
    finding = Finding(
        id="F-001",
        number=1,
        severity="low",
        description="d",
        status="open",
        source="drill",
        created_at=clock.now(),
        due_date=date(2026, 1, 1),
        extra={},
    )
    finding.history = []
    assert list(finding_summary(finding)) == summary_fields()
