"""A property walk of two-way sync: random edits on both sides between syncs, against an
in-memory tracker. After each sync: one issue per finding, every field either agreed or
reported as a conflict with both sides left as they were."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from drillbook.clock import FakeClock
from drillbook.domain.finding import service
from drillbook.flows.tracker_sync import STATE_OF, local_due, sync_tracker
from drillbook.storage.engine import Store
from drillbook.trackers.base import DOING, DONE, TODO, IssueDraft, RemoteIssue, Tracker
from drillbook.trackers.base import TrackerSettings as Settings


class MemoryTracker(Tracker):
    kind = "memory"
    display = "Memory"

    def __init__(self) -> None:
        super().__init__("memory", Settings(type="memory", token_env="X"), token="t")
        self.issues: dict[str, RemoteIssue] = {}
        self.creates = 0

    def list_marked(self) -> dict[str, RemoteIssue]:
        return {i.marker: i for i in self.issues.values() if i.marker}

    def create(self, draft: IssueDraft) -> RemoteIssue:
        self.creates += 1
        issue = RemoteIssue(
            key=f"M-{self.creates}",
            marker=draft.marker,
            state=draft.state,
            owner=draft.owner,
            due=draft.due,
            changed_by="bot",
        )
        self.issues[issue.key] = issue
        return issue

    def update(self, issue: RemoteIssue, **changes: Any) -> None:
        current = self.issues[issue.key]
        if changes.get("state") is not None:
            current = replace(current, state=changes["state"])
        if changes.get("set_owner"):
            current = replace(current, owner=changes.get("owner"))
        if changes.get("set_due"):
            current = replace(current, due=changes.get("due"))
        self.issues[issue.key] = current

    def remote_edit(self, index: int, field: str, value: Any) -> None:
        key = sorted(self.issues)[index % len(self.issues)]
        self.issues[key] = replace(self.issues[key], **{field: value}, changed_by="Remy")


OWNERS = st.sampled_from([None, "alice", "bob"])
DUES = st.sampled_from([date(2026, 6, 1), date(2026, 7, 1)])
LOCAL = st.tuples(
    st.just("local"),
    st.integers(0, 2),
    st.sampled_from(["status", "owner", "target_date"]),
    st.one_of(st.sampled_from(["in_progress", "resolved", "open"]), OWNERS, DUES),
)
REMOTE = st.tuples(
    st.just("remote"),
    st.integers(0, 2),
    st.sampled_from(["state", "owner", "due"]),
    st.one_of(st.sampled_from([TODO, DOING, DONE]), OWNERS, DUES),
)
# both sides change the same field of the same finding before a sync: a conflict
BOTH = st.sampled_from([("owner", "owner"), ("target_date", "due")]).flatmap(
    lambda fields: st.tuples(
        st.just("both"),
        st.integers(0, 2),
        st.just(fields),
        st.tuples(OWNERS, OWNERS) if fields[0] == "owner" else st.tuples(DUES, DUES),
    )
)
ROUNDS = st.lists(st.lists(st.one_of(LOCAL, REMOTE, BOTH), max_size=4), min_size=1, max_size=5)


def _local_edit(session: Any, fid: str, field: str, value: Any) -> None:
    finding = service.get_finding(session, fid)
    if (
        field == "status"
        and isinstance(value, str)
        and value in ("in_progress", "resolved", "open")
    ):
        try:
            service.set_status(session, finding, value, note="walk")
        except Exception:  # an illegal move in the walk: the lifecycle refused it
            return
    elif field == "owner" and (value is None or value in ("alice", "bob")):
        finding.owner = value
    elif field == "target_date" and isinstance(value, date):
        finding.target_date = value


def _remote_ok(field: str, value: Any) -> bool:
    if field == "state":
        return value in (TODO, DOING, DONE)
    if field == "owner":
        return value is None or value in ("alice", "bob")
    return isinstance(value, date)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rounds=ROUNDS)
def test_random_edits_on_both_sides(
    sqlite_store: Store, fake_clock: FakeClock, rounds: list[list[tuple[str, int, Any, Any]]]
) -> None:
    tracker = MemoryTracker()
    with sqlite_store.session() as session:
        ids = [
            service.create_finding(
                session, description=f"gap {i}", severity="high", source="drill", owner="alice"
            ).id
            for i in range(3)
        ]
        sync_tracker(session, tracker)
        for edits in rounds:
            fake_clock.advance(timedelta(hours=1))
            for side, index, field, value in edits:
                if side == "both":
                    _local_edit(session, ids[index], field[0], value[0])
                    tracker.remote_edit(index, field[1], value[1])
                elif side == "local":
                    _local_edit(session, ids[index], field, value)
                elif _remote_ok(field, value):
                    tracker.remote_edit(index, field, value)
            before_remote = dict(tracker.issues)
            report = sync_tracker(session, tracker)
            for kind in ("pulled", "pushed", "conflicts"):
                if getattr(report, kind):
                    event(kind)
            assert tracker.creates == 3  # never a second issue for a finding
            words = {"status": "status", "owner": "owner", "due": "due date"}
            by_marker = tracker.list_marked()
            for fid in ids:
                finding = service.get_finding(session, fid)
                issue = by_marker[tracker.marker(fid)]
                pairs = {
                    "status": (STATE_OF[finding.status], issue.state),  # type: ignore[index]
                    "owner": (finding.owner, issue.owner),
                    "due": (local_due(finding), issue.due),
                }
                for name, (here, there) in pairs.items():
                    if any(c.startswith(f"{fid} {words[name]}") for c in report.conflicts):
                        # reported: the tracker's side was left as it was
                        old = before_remote[issue.key]
                        was = {"status": old.state, "owner": old.owner, "due": old.due}[name]
                        assert there == was
                    else:
                        assert here == there, (fid, name, here, there, report.as_dict())
        session.rollback()
