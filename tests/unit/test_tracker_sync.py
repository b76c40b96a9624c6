"""Tracker sync against fakes of Jira (Cloud v3 and Data Center v2), GitHub and Linear:
five findings each, idempotent re-runs, a crash between the remote create and the local
write, changes made in the tracker coming back, conflicts, rate limits and auth errors."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.clock import FakeClock
from drillbook.domain.finding import service
from drillbook.errors import AdapterError, LibraryError
from drillbook.flows.tracker_sync import links_for, sync_tracker
from drillbook.library.loader import load_program
from drillbook.storage.engine import Store
from drillbook.trackers.base import Tracker
from drillbook.trackers.registry import load_tracker
from tests.unit.tracker_fakes import FakeGitHub, FakeJira, FakeLinear

TOKEN = "s3cr3t-token-value"


@dataclass
class Case:
    name: str
    section: dict[str, Any]
    fake: Any
    count: Callable[[Any], int]
    mark_done: Callable[[Any, str], None]
    who: str


def _jira(cloud: bool) -> Case:
    fake = FakeJira(TOKEN, cloud=cloud)
    section = {
        "type": "jira",
        "token_env": "JIRA_TOKEN",
        "url": "https://acme.atlassian.net",
        "project": "SEC",
        "deployment": "cloud" if cloud else "datacenter",
        "users": {"alice": "acc-alice" if cloud else "alice.dc"},
    }
    if cloud:
        section["email"] = "bot@example.com"
    return Case(
        "jira-cloud" if cloud else "jira-dc",
        section,
        fake,
        lambda f: len(f.issues),
        lambda f, key: f.set_status(key, "done", "Alice Admin"),
        "Jira by Alice Admin",
    )


def _github() -> Case:
    fake = FakeGitHub(TOKEN)
    return Case(
        "github",
        {
            "type": "github",
            "token_env": "GH_TOKEN",
            "repository": "acme/security",
            "users": {"alice": "alice-gh"},
        },
        fake,
        lambda f: len(f.issues),
        lambda f, key: f.close(int(key.split("#")[1]), "octocat"),
        "GitHub by octocat",
    )


def _linear() -> Case:
    fake = FakeLinear(TOKEN)
    return Case(
        "linear",
        {"type": "linear", "token_env": "LINEAR_KEY", "team_id": "team-uuid-1"},
        fake,
        lambda f: len(f.issues),
        lambda f, key: f.set_state(key, "completed", "Lin Ear"),
        "Linear by Lin Ear",
    )


CASES = {
    "jira-cloud": lambda: _jira(True),
    "jira-dc": lambda: _jira(False),
    "github": _github,
    "linear": _linear,
}


def _tracker(case: Case, sleeps: list[float] | None = None) -> Tracker:
    waits = sleeps if sleeps is not None else []
    return load_tracker(
        case.name,
        {**case.section},
        client=httpx.Client(transport=case.fake.transport()),
        sleep=waits.append,
    )


def _findings(store: Store, count: int, start: int = 0) -> list[str]:
    ids = []
    with store.session() as session:
        for index in range(start, start + count):
            finding = service.create_finding(
                session,
                description=f"Gap number {index}: nobody rotated the key",
                severity=["critical", "high", "medium", "low"][index % 4],
                source="exercise",
                owner="alice" if index % 2 == 0 else None,
            )
            ids.append(finding.id)
    return ids


@pytest.fixture(autouse=True)
def _tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("JIRA_TOKEN", "GH_TOKEN", "LINEAR_KEY"):
        monkeypatch.setenv(name, TOKEN)


class Crash(RuntimeError):
    """The process dying between the remote create and the local write."""


@pytest.mark.parametrize("which", list(CASES))
def test_sync_is_idempotent_survives_a_crash_and_pulls_changes(
    store: Store, fake_clock: FakeClock, which: str
) -> None:
    case = CASES[which]()
    ids = _findings(store, 5)
    sleeps: list[float] = []
    case.fake.faults.rate_limit_once = True
    with store.session() as session:
        report = sync_tracker(session, _tracker(case, sleeps))
    assert len(report.created) == 5
    assert not report.conflicts
    assert case.count(case.fake) == 5
    assert case.fake.faults.rate_limited == 1
    assert sleeps
    assert sleeps[0] >= 1
    if which == "github":  # owners mapped in users: are assigned by login
        assert [i["assignees"] for i in case.fake.issues[:2]] == [[{"login": "alice-gh"}], []]

    with store.session() as session:  # re-run: nothing new
        again = sync_tracker(session, _tracker(case))
    assert again.created == []
    assert again.adopted == []
    assert again.pushed == []
    assert case.count(case.fake) == 5

    sixth = _findings(store, 1, start=5)[0]

    def crash(*_: object) -> None:
        raise Crash

    with pytest.raises(Crash), store.session() as session:
        sync_tracker(session, _tracker(case), after_create=crash)
    assert case.count(case.fake) == 6
    with store.session() as session:
        assert links_for(session, sixth) == []  # the local write was lost
        recovered = sync_tracker(session, _tracker(case))
    assert recovered.created == []
    assert len(recovered.adopted) == 1
    assert case.count(case.fake) == 6

    with store.session() as session:
        key = links_for(session, ids[0])[0].key
    case.mark_done(case.fake, key)
    fake_clock.advance(timedelta(hours=1))
    with store.session() as session:
        pulled = sync_tracker(session, _tracker(case))
        assert len(pulled.pulled) == 1
        assert not pulled.conflicts
        finding = service.get_finding(session, ids[0])
        assert finding.status == "resolved"
        last = finding.status_changes[-1]
        assert last.text == f"changed in {case.who}"
    assert case.count(case.fake) == 6


@pytest.mark.parametrize("which", list(CASES))
def test_local_changes_are_pushed_and_conflicts_reported(
    sqlite_store: Store, fake_clock: FakeClock, which: str
) -> None:
    case = CASES[which]()
    ids = _findings(sqlite_store, 2)
    with sqlite_store.session() as session:
        sync_tracker(session, _tracker(case))
        first = service.get_finding(session, ids[0])
        service.set_status(session, first, "in_progress" if which != "github" else "resolved")
        service.update_fields(
            session, first, {"target_date": fake_clock.now().date() + timedelta(days=3)}
        )
    with sqlite_store.session() as session:
        pushed = sync_tracker(session, _tracker(case))
    assert len(pushed.pushed) == 2
    assert not pushed.conflicts
    with sqlite_store.session() as session:  # pushed means agreed: nothing more to do
        assert sync_tracker(session, _tracker(case)).pushed == []
        link = links_for(session, ids[1])[0]
    case.mark_done(case.fake, link.key)
    with sqlite_store.session() as session:
        second = service.get_finding(session, ids[1])
        service.set_status(session, second, "wont_do", note="not ours")
    with sqlite_store.session() as session:
        quiet = sync_tracker(session, _tracker(case))  # both say done: agreement
    assert not quiet.conflicts
    with sqlite_store.session() as session:
        service.update_fields(session, service.get_finding(session, ids[1]), {"owner": "bob"})
    if which.startswith("jira"):
        case.fake.issues[link.key]["fields"]["assignee"] = (
            {"accountId": "acc-carol"} if which == "jira-cloud" else {"name": "carol"}
        )
    elif which == "github":
        case.fake.issues[int(link.key.split("#")[1]) - 1]["assignees"] = [{"login": "carol"}]
    else:
        case.fake.issues[1]["assignee"] = {"id": "carol", "name": "Carol"}
    with sqlite_store.session() as session:
        clash = sync_tracker(session, _tracker(case))
        assert len(clash.conflicts) == 1
        assert "owner" in clash.conflicts[0]
        assert service.get_finding(session, ids[1]).owner == "bob"  # not overwritten


@pytest.mark.parametrize("which", list(CASES))
def test_auth_failure_is_one_clear_error_without_the_token(sqlite_store: Store, which: str) -> None:
    case = CASES[which]()
    _findings(sqlite_store, 1)
    case.fake.faults.auth_fails = True
    with pytest.raises(AdapterError) as failed, sqlite_store.session() as session:
        sync_tracker(session, _tracker(case))
    message = str(failed.value)
    assert "authentication failed" in message
    assert TOKEN not in message
    assert case.section["token_env"] in message


def test_dry_run_writes_nothing(sqlite_store: Store) -> None:
    case = CASES["github"]()
    _findings(sqlite_store, 3)
    with sqlite_store.session() as session:
        report = sync_tracker(session, _tracker(case), dry_run=True)
    assert len(report.created) == 3
    assert case.count(case.fake) == 0
    assert all(r.method == "GET" for r in case.fake.requests)


def test_tracker_settings_are_checked_with_locations(tmp_path: Path) -> None:
    (tmp_path / "drillbook.yaml").write_text(
        "organisation: Acme\n"
        "trackers:\n"
        "  jira:\n"
        "    type: jira\n"
        "    token_env: JIRA_TOKEN\n"
        "    url: ftp://nope\n"
        "    project: SEC\n"
        "  gh:\n"
        "    type: gitlab\n"
        "    token_env: X\n",
        encoding="utf-8",
    )
    with pytest.raises(LibraryError) as bad:
        load_program(tmp_path)
    text = str(bad.value)
    assert "drillbook.yaml:6:" in text
    assert "trackers.jira" in text
    assert "drillbook.yaml:9:" in text
    assert "unknown tracker type 'gitlab'" in text
    (tmp_path / "drillbook.yaml").write_text(
        "organisation: Acme\ntrackers:\n  jira: {type: jira, token_env: T, "
        "url: 'https://acme.atlassian.net', project: SEC}\n",
        encoding="utf-8",
    )
    with pytest.raises(LibraryError, match="needs 'email'"):
        load_program(tmp_path)


def test_cli_sync_dry_run_and_missing_token(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "drillbook.yaml").write_text(
        "organisation: Acme\n"
        "trackers:\n"
        "  gh:\n"
        "    type: github\n"
        "    token_env: DRILLBOOK_TEST_GH\n"
        "    repository: acme/security\n",
        encoding="utf-8",
    )
    monkeypatch.delenv("DRILLBOOK_TEST_GH", raising=False)
    result = runner.invoke(app, ["-L", str(tmp_path), "finding", "sync", "--dry-run"])
    assert result.exit_code == 1
    assert "DRILLBOOK_TEST_GH is not set" in result.output
    result = runner.invoke(app, ["-L", str(tmp_path), "finding", "sync", "--tracker", "jira"])
    assert result.exit_code == 1
    assert "no tracker named 'jira'" in result.output


def test_owner_and_due_date_changed_in_jira_come_back(
    sqlite_store: Store, fake_clock: FakeClock
) -> None:
    case = CASES["jira-cloud"]()
    [fid] = _findings(sqlite_store, 1)
    with sqlite_store.session() as session:
        sync_tracker(session, _tracker(case))
        key = links_for(session, fid)[0].key
    issue = case.fake.issues[key]
    issue["fields"]["assignee"] = {"accountId": "acc-alice"}  # users: alice -> acc-alice
    issue["fields"]["duedate"] = "2026-07-01"
    issue["changelog"]["histories"].append(
        {
            "id": "9",
            "author": {"displayName": "Dana Dev"},
            "created": "2026-05-01T09:00:00.000+0000",
        }
    )
    with sqlite_store.session() as session:
        report = sync_tracker(session, _tracker(case))
        assert not report.conflicts
        finding = service.get_finding(session, fid)
        assert finding.owner == "alice"
        assert str(finding.target_date) == "2026-07-01"
        notes = [e.text or "" for e in finding.history if e.kind == "note"]
        assert any("target_date" in n and "changed in Jira by Dana Dev" in n for n in notes)
        assert {e.author for e in finding.history if e.kind == "note"} == {"Dana Dev"}
    with sqlite_store.session() as session:  # agreed now: a re-run moves nothing
        again = sync_tracker(session, _tracker(case))
    assert again.pulled == []
    assert again.pushed == []


def test_jira_transitions_by_configured_name(sqlite_store: Store) -> None:
    case = CASES["jira-dc"]()
    case.section["transitions"] = {"doing": "In Progress", "done": "Close Issue"}
    [fid] = _findings(sqlite_store, 1)
    with sqlite_store.session() as session:
        service.set_status(session, service.get_finding(session, fid), "in_progress")
        sync_tracker(session, _tracker(case))  # created, then moved by the named transition
    [issue] = case.fake.issues.values()
    assert issue["fields"]["status"]["statusCategory"]["key"] == "indeterminate"
    with sqlite_store.session() as session:  # the create's own transition is not a change
        assert service.get_finding(session, fid).status == "in_progress"
        assert sync_tracker(session, _tracker(case)).pulled == []
    with sqlite_store.session() as session:
        service.set_status(session, service.get_finding(session, fid), "resolved")
    with pytest.raises(AdapterError) as failed, sqlite_store.session() as session:
        sync_tracker(session, _tracker(case))
    message = str(failed.value)
    assert "no transition to Close Issue" in message
    assert "available: To Do, In Progress, Done" in message
    assert "trackers.jira-dc.transitions.done" in message


def test_an_owner_linear_cannot_hold_is_noted_not_pushed_or_lost(sqlite_store: Store) -> None:
    case = CASES["linear"]()  # no users: mapping, and Linear takes only its own user ids
    [fid] = _findings(sqlite_store, 1)  # owner alice
    with sqlite_store.session() as session:
        first = sync_tracker(session, _tracker(case))
    assert case.fake.issues[0]["assignee"] is None  # not sent as a (wrong) user id
    assert any("add alice to trackers.linear.users" in n for n in first.notes)
    with sqlite_store.session() as session:
        again = sync_tracker(session, _tracker(case))
        assert service.get_finding(session, fid).owner == "alice"  # not overwritten by None
    assert again.pulled == []
    assert again.conflicts == []
