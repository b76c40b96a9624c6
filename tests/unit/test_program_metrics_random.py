"""The program's figures and gap signals, aggregated by the database, against a plain
Python computation of their definitions on random histories (both databases).

The SQL is shaped for speed (one grouping for theatre and repeats, counts grouped by the
stored team and merged under labels, percentiles by ``LIMIT``/``OFFSET`` at known ranks,
each team's first overdue findings by a ``LIMIT`` per team); this checks it still says
what the definitions in :mod:`drillbook.domain.program.metrics` and ``signals`` say, on
data with the awkward cases: findings and exercises without a team (and a team literally
named ``(no team)``), findings of no exercise with and without a drill step, tabletops
not started, ``other`` and blank capabilities, accepted risks that expired, ties in the
days to close, and groups of more than twenty findings with ids of different lengths.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from drillbook.domain.drill.models import DrillRun
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.finding.models import Finding
from drillbook.domain.program.gaps import start_gap_groups
from drillbook.domain.program.metrics import NO_TEAM, NOT_STARTED, compute_metrics
from drillbook.domain.program.periods import Period, quarter, span
from drillbook.domain.program.signals import EVIDENCE_SHOWN, find_signals
from drillbook.storage.engine import Store

TODAY = date(2026, 11, 20)
START = date(2025, 1, 1)
TEAMS = ["alpha", "Beta", "gamma", NO_TEAM, None]
SCENARIOS = ["s-one", "s-two", "s-three"]
CAPABILITIES = ["on_call", "runbook", "detection", "other", None]
SEVERITIES = ["critical", "high", "medium", "low"]
STATUSES = ["open", "in_progress", "resolved", "verified", "wont_do", "risk_accepted"]
EXERCISE_STATUSES = ["planned", "briefed", "running", "reported", "followed_up"]


def _moment(rng: random.Random, since: date, days: int) -> datetime:
    day = since + timedelta(days=rng.randrange(days))
    return datetime(day.year, day.month, day.day, rng.choice((9, 10, 15)), tzinfo=UTC)


def _history(rng: random.Random, findings: int) -> tuple[list[dict[str, Any]], ...]:
    exercises = []
    for number in range(1, 41):
        run = START + timedelta(days=rng.randrange(690))
        exercises.append(
            {
                "id": number,
                "scenario_id": rng.choice(SCENARIOS),
                "title": f"Exercise {number}",
                "team": rng.choice(TEAMS),
                "status": rng.choice(EXERCISE_STATUSES),
                "run_date": run,
                "created_at": datetime(run.year, run.month, run.day, 9, tzinfo=UTC),
                "scenario_document": None,
                "participants": [],
                "next_actions": [],
                "next_tabletop": None,
                "reported_at": None,
            }
        )
    rows = []
    # numbers skip about, so ids have three and four digits: (length, id) order matters
    numbers = rng.sample(range(1, 3000), findings)
    for number in numbers:
        exercise = rng.choice(exercises) if rng.random() < 0.8 else None
        drill = exercise is None and rng.random() < 0.7
        created = _moment(rng, START, 690)
        status = rng.choice(STATUSES)
        closed = None
        if status in ("resolved", "verified", "wont_do"):
            # whole days and a few hours: ties in the days to close
            closed = created + timedelta(days=rng.randrange(0, 40), hours=rng.choice((0, 6)))
        severity = rng.choice(SEVERITIES)
        rows.append(
            {
                "id": f"F-{number:03d}",
                "number": number,
                "severity": severity,
                "description": "gap",
                "proposed_remediation": None,
                "owner": None,
                "team": exercise["team"] if exercise and rng.random() < 0.9 else rng.choice(TEAMS),
                "status": status,
                "change_type": None,
                "capability": rng.choice(CAPABILITIES),
                "fix_location": None,
                "source": "exercise" if exercise else "drill",
                "source_ref": f"run-{rng.randrange(4)}:step" if drill else None,
                "exercise_id": exercise["id"] if exercise else None,
                "rule": rng.choice(("R1", "R2")) if drill and rng.random() < 0.8 else None,
                "technique": rng.choice(("T1059", None)) if drill else None,
                "target_date": None,
                "due_date": (created + timedelta(days=rng.choice((7, 30, 90)))).date()
                if rng.random() < 0.9
                else None,
                "risk_expires": TODAY + timedelta(days=rng.randrange(-30, 30))
                if status == "risk_accepted" and rng.random() < 0.8
                else None,
                "created_at": created,
                "updated_at": closed or created,
                "closed_at": closed,
                "extra": {},
            }
        )
    drills = [
        {
            "id": f"run-{n}",
            "plan_name": "p",
            "plan_path": "drills/p.yaml",
            "team": rng.choice(TEAMS),
            "target": "local",
            "status": "completed",
            "started_at": _moment(rng, START, 690),
            "ended_at": None,
            "runner_pid": None,
            "runner_host": "h",
            "operator": "o",
            "safety": {},
            "abort_reason": None,
        }
        for n in range(12)
    ]
    return exercises, rows, drills


def _label(team: str | None) -> str:
    return NO_TEAM if team is None else team


def _active(f: dict[str, Any]) -> bool:
    return f["status"] in ("open", "in_progress") or (
        f["status"] == "risk_accepted"
        and f["risk_expires"] is not None
        and f["risk_expires"] < TODAY
    )


def _overdue(f: dict[str, Any]) -> bool:
    return _active(f) and f["due_date"] is not None and f["due_date"] < TODAY


def _gap(f: dict[str, Any]) -> str | None:
    if f["rule"] is not None:
        return f"{f['rule']} @ {f['technique'] or '?'}"
    if f["capability"] is None or f["capability"] == "other":
        return None
    return str(f["capability"])


def _rank(n: int, percent: int) -> int:
    return (n * percent + 99) // 100


def _expected(
    exercises: list[dict[str, Any]],
    findings: list[dict[str, Any]],
    drills: list[dict[str, Any]],
    period: Period,
    team: str | None,
) -> dict[str, Any]:
    """The definitions, computed row by row."""
    start, end = period.start_at, period.end_at
    mine = [f for f in findings if team is None or f["team"] == team]
    figures: dict[str, list[int]] = defaultdict(lambda: [0] * 6)
    for e in exercises:
        if (
            (team is None or e["team"] == team)
            and period.start <= e["run_date"] < period.end
            and e["status"] not in NOT_STARTED
        ):
            figures[_label(e["team"])][0] += 1
    for d in drills:
        if (team is None or d["team"] == team) and start <= d["started_at"] < end:
            figures[_label(d["team"])][1] += 1
    for f in mine:
        row = figures[_label(f["team"])]
        opened = start <= f["created_at"] < end
        row[2] += opened
        row[3] += opened and f["closed_at"] is not None and f["closed_at"] < end
        row[4] += f["closed_at"] is not None and start <= f["closed_at"] < end
        row[5] += _overdue(f)
    teams = sorted(
        ((name, *values) for name, values in figures.items() if any(values)),
        key=lambda r: (r[0] == NO_TEAM, r[0]),
    )
    days: dict[str, list[float]] = defaultdict(list)
    for f in mine:
        if f["closed_at"] is not None and start <= f["closed_at"] < end:
            days[f["severity"]].append((f["closed_at"] - f["created_at"]).total_seconds() / 86400)
    ttc = {}
    for severity in SEVERITIES:
        values = sorted(days[severity])
        n = len(values)
        ttc[severity] = (
            (n, round(values[_rank(n, 50) - 1], 2), round(values[_rank(n, 90) - 1], 2))
            if n
            else (0, None, None)
        )
    by_id = {e["id"]: e for e in exercises}
    theatre: dict[tuple[str, str, str], list[Any]] = {}
    origins: dict[tuple[str, str], list[Any]] = {}
    for f in findings:
        gap = _gap(f)
        if gap is None:
            continue
        e = by_id.get(f["exercise_id"])
        if e is not None and e["status"] not in NOT_STARTED and (team is None or e["team"] == team):
            run = theatre.setdefault((_label(e["team"]), e["scenario_id"], gap), [set(), [], None])
            run[0].add(e["id"])
            run[1].append(f["id"])
            run[2] = max(run[2] or e["run_date"], e["run_date"])
        if team is None or f["team"] == team:
            origin = f"scenario:{e['scenario_id']}" if e else (f["source_ref"] or f["id"])
            seen = origins.setdefault((_label(f["team"]), gap), [set(), [], None])
            seen[0].add(origin)
            seen[1].append(f["id"])
            seen[2] = max(seen[2] or f["created_at"], f["created_at"])
    signals = []
    for (name, scenario, gap), (runs, ids, last) in sorted(theatre.items()):
        if len(runs) >= 2 and period.start <= last < period.end:
            evidence = [f"EX-{r}" for r in sorted(runs)] + sorted(ids)
            data = {"gap": gap, "runs": len(runs), "last_run": last}
            signals.append(("theatre", _team(name), scenario, evidence, data))
    for (name, gap), (where, ids, latest) in sorted(origins.items()):
        if len(where) >= 2 and start <= latest < end:
            shown = sorted(ids, key=lambda i: (len(i), i))[:EVIDENCE_SHOWN]
            data = {"gap": gap, "origins": len(where), "findings": len(ids)}
            signals.append(("repeat", _team(name), gap, shown, data))
    late: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in mine:
        if _overdue(f):
            late[_label(f["team"])].append(f)
    for name in sorted(late):
        rows = sorted(late[name], key=lambda f: (f["due_date"], f["number"]))
        data = {"overdue": len(rows), "oldest_due": rows[0]["due_date"], "escalate_to": None}
        shown = [f["id"] for f in rows[:EVIDENCE_SHOWN]]
        signals.append(("past_sla", _team(name), name, shown, data))
    return {"teams": teams, "ttc": ttc, "signals": signals}


def _team(name: str) -> str | None:
    return None if name == NO_TEAM else name


def _signals(session: Any, period: Period, team: str | None, **given: Any) -> Any:
    """find_signals with no library (no program, scenarios or own files), as of TODAY."""
    return find_signals(
        session,
        period,
        program=None,
        scenarios={},
        own_scenarios=[],
        review_every=timedelta(days=91),
        team=team,
        today=TODAY,
        **given,
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_figures_and_gap_signals_match_their_definitions(store: Store, seed: int) -> None:
    rng = random.Random(seed)
    exercises, findings, drills = _history(rng, 400)
    with store.engine.begin() as connection:
        connection.execute(insert(Exercise.__table__), exercises)
        connection.execute(insert(Finding.__table__), findings)
        connection.execute(insert(DrillRun.__table__), drills)
    periods = [span([quarter(2026, n) for n in (1, 2, 3, 4)]), quarter(2025, 3)]
    kinds: set[str] = set()
    for period in periods:
        for team in (None, "alpha", NO_TEAM):
            with store.reading() as session:
                metrics = compute_metrics(session, period, team=team, today=TODAY)
                # the overdue teams as the metrics give them, and read again
                overdue = metrics.overdue_teams if period is periods[0] else None
                signals = _signals(session, period, team, overdue=overdue)
            with store.reading(twin=True) as session:  # the gap query on the twin
                gaps = start_gap_groups(session, period, team)
                beside = _signals(session, period, team, gaps=gaps)
            assert beside == signals
            expected = _expected(exercises, findings, drills, period, team)
            got = metrics.as_dict()
            assert [
                (
                    t["team"],
                    t["tabletops"],
                    t["drills"],
                    t["findings_opened"],
                    t["closed_of_opened"],
                    t["findings_closed"],
                    t["overdue"],
                )
                for t in got["teams"]
            ] == expected["teams"], (period, team)
            assert {
                k: (v["n"], v["median"], v["p90"]) for k, v in got["time_to_close_days"].items()
            } == expected["ttc"], (period, team)
            assert [
                (s.kind, s.team, s.subject, list(s.evidence), dict(s.data))
                for s in signals
                if s.kind in ("theatre", "repeat", "past_sla")
            ] == expected["signals"], (period, team)
            kinds.update(s[0] for s in expected["signals"])
            longest = max((s[4].get("findings", 0) for s in expected["signals"]), default=0)
            assert (
                longest <= EVIDENCE_SHOWN
                or team is not None
                or period is not periods[0]
                or (any(len(s[3]) == EVIDENCE_SHOWN for s in expected["signals"]))
            )
    assert kinds == {"theatre", "repeat", "past_sla"}  # the data raise each
