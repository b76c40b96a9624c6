"""Time the program's commands on a store with 100,000 findings over 10,000 exercises.

Seeds a fresh store (SQLite in a scratch folder, or a fresh schema of the PostgreSQL
database given as the first argument or in ``DRILLBOOK_TEST_DATABASE_URL``) with bulk
inserts, then runs each command in this process with its output sent to /dev/null and
prints the wall time and this process's CPU time: ``metrics``, ``schedule``, ``finding list
--json`` (its default page, and a page of 100), the ``finding list`` table (a page),
``finding list --overdue``, ``finding rank``, ``followup`` and ``lint``, and the full
exports (``--all``: printed, but not held to the one-second target, which is for the
commands people wait on); then ``finding rank`` again at 10,000 and 100,000 findings to
show how it grows. Each command is also run as a new process, as a user runs it (Python's
start-up and drillbook's imports included, on the real clock): ``--no-processes`` skips it.

Run: ``.venv/bin/python benchmarks/bench_program_scale.py [DATABASE_URL] [--findings N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, delete, insert, text

from drillbook import clock
from drillbook.domain.drill.models import DrillRun
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.finding.models import Finding, FindingCounter, FindingEvent
from drillbook.domain.scorecard.models import DetectionResultRow
from drillbook.library.loader import load_builtin
from drillbook.library.scaffolding import scaffold
from drillbook.storage.engine import Store

TARGET_SECONDS = 1.0
TODAY = date(2026, 11, 30)
SEVERITIES = ("critical", "high", "medium", "low")
SLA = {"critical": 7, "high": 30, "medium": 90, "low": 120}
CAPABILITIES = (
    "on_call",
    "credential_revocation",
    "customer_comms",
    "audit_log_access",
    "approval_gates",
    "regulator_notification",
    "detection",
    "runbook",
    "containment",
    "data_scoping",
    "access_isolation",
    "change_review",
)
# Finding text drawn from a 20,000-word vocabulary with a Zipf-like skew: a few words in
# many findings, most in a handful, as in a real backlog.
WORDS = [f"term{n:05d}" for n in range(20_000)]
WEIGHTS = [1 / (rank + 1) ** 0.8 for rank in range(len(WORDS))]


def _batches(rows: list[dict[str, Any]], size: int = 5000) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def seed(store: Store, findings: int, exercises: int, *, seed_value: int = 16) -> None:
    """Bulk-insert the records (about 20 teams, two years of history)."""
    rng = random.Random(seed_value)
    scenarios = sorted(load_builtin())
    teams = [f"team-{n:02d}" for n in range(20)]
    start = TODAY - timedelta(days=730)
    exercise_rows, finding_rows, event_rows = [], [], []
    for number in range(1, exercises + 1):
        run_date = start + timedelta(days=rng.randrange(0, 720))
        exercise_rows.append(
            {
                "id": number,
                "scenario_id": rng.choice(scenarios),
                "title": f"Exercise {number}",
                "team": rng.choice(teams),
                "status": rng.choice(("reported", "followed_up", "reported")),
                "run_date": run_date,
                "created_at": datetime.combine(run_date, dtime(9), tzinfo=UTC),
                "scenario_document": None,
                "participants": [f"p{rng.randrange(200)}" for _ in range(4)],
                "next_actions": [],
                "next_tabletop": None,
                "reported_at": datetime.combine(run_date + timedelta(days=1), dtime(9), tzinfo=UTC),
            }
        )
    event_id = 0
    for number in range(1, findings + 1):
        exercise = exercise_rows[(number - 1) % exercises]
        severity = rng.choice(SEVERITIES)
        opened = exercise["created_at"] + timedelta(hours=1)
        closed_status = rng.random() < 0.6
        status = (
            rng.choice(("resolved", "verified", "wont_do"))
            if closed_status
            else rng.choice(("open", "in_progress"))
        )
        closed_at = opened + timedelta(days=rng.randrange(1, 200)) if closed_status else None
        if closed_at is not None and closed_at.date() > TODAY:
            closed_at = datetime.combine(TODAY, dtime(8), tzinfo=UTC)
        words = " ".join(dict.fromkeys(rng.choices(WORDS, WEIGHTS, k=8)))
        finding_rows.append(
            {
                "id": f"F-{number:03d}",
                "number": number,
                "severity": severity,
                "description": f"Gap {words}",
                "proposed_remediation": f"Fix {words}",
                "owner": f"owner-{rng.randrange(50)}",
                "team": exercise["team"],
                "status": status,
                "change_type": rng.choice(("policy", "configuration", "training")),
                "capability": rng.choice(CAPABILITIES),
                "fix_location": None,
                "source": "exercise",
                "source_ref": f"EX-{exercise['id']}",
                "exercise_id": exercise["id"],
                "rule": None,
                "technique": None,
                "target_date": None,
                "due_date": opened.date() + timedelta(days=SLA[severity]),
                "risk_expires": None,
                "created_at": opened,
                "updated_at": closed_at or opened,
                "closed_at": closed_at,
                "extra": {},
            }
        )
        event_id += 1
        event_rows.append(
            {
                "id": event_id,
                "finding_id": f"F-{number:03d}",
                "at": opened,
                "kind": "status",
                "from_status": None,
                "to_status": "open",
                "text": "opened from exercise",
                "source_ref": None,
                "author": None,
            }
        )
        if closed_at is not None:
            event_id += 1
            event_rows.append(
                {
                    "id": event_id,
                    "finding_id": f"F-{number:03d}",
                    "at": closed_at,
                    "kind": "status",
                    "from_status": "open",
                    "to_status": status,
                    "text": None,
                    "source_ref": None,
                    "author": None,
                }
            )
    with store.engine.begin() as connection:
        for rows, table in (
            (exercise_rows, Exercise.__table__),
            (finding_rows, Finding.__table__),
            (event_rows, FindingEvent.__table__),
        ):
            for batch in _batches(rows):
                connection.execute(insert(table), batch)
        connection.execute(delete(FindingCounter.__table__))
        connection.execute(
            insert(FindingCounter.__table__), [{"name": "finding", "value": findings}]
        )
        drills, results = [], []
        for _ in range(max(1, exercises // 20)):
            started = datetime.combine(
                start + timedelta(days=rng.randrange(720)), dtime(10), tzinfo=UTC
            )
            run_id = uuid.UUID(int=rng.getrandbits(128)).hex
            drills.append(
                {
                    "id": run_id,
                    "plan_name": "bench",
                    "plan_path": "drills/bench.yaml",
                    "team": rng.choice(teams),
                    "target": "local",
                    "status": "completed",
                    "started_at": started,
                    "ended_at": started + timedelta(minutes=20),
                    "runner_pid": None,
                    "runner_host": "bench",
                    "operator": "bench",
                    "safety": {},
                    "abort_reason": None,
                }
            )
            for check in range(4):
                fired = rng.random() < 0.7
                results.append(
                    {
                        "drill_run_id": run_id,
                        "technique_run_id": f"{run_id}-{check}",
                        "technique": "T1059.004",
                        "technique_name": "",
                        "expected_rule": f"R{check}",
                        "rule_title": None,
                        "backend": "local",
                        "verdict": "fired" if fired else "not_fired",
                        "fired": fired,
                        "fired_severity": None,
                        "expected_severity": None,
                        "technique_started_at": started,
                        "first_alert_at": started + timedelta(seconds=30) if fired else None,
                        "time_to_alert_seconds": float(rng.randrange(5, 300)) if fired else None,
                        "acknowledged_at": started + timedelta(seconds=600) if fired else None,
                        "events_seen": 3,
                        "matching_events": None,
                        "detail": "",
                        "finding_id": None,
                        "checked_at": started + timedelta(minutes=30),
                    }
                )
        for rows, table in ((drills, DrillRun.__table__), (results, DetectionResultRow.__table__)):
            for batch in _batches(rows):
                connection.execute(insert(table), batch)


@contextlib.contextmanager
def _silenced() -> Iterator[None]:
    with open(os.devnull, "w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
        yield


def run_cli(library: Path, *args: str) -> tuple[float, float]:
    """Wall and CPU seconds (this process's) of ``drillbook -L library ARGS`` run in it.

    CPU seconds are steadier on a shared machine; on PostgreSQL they leave out the
    server's share, which the wall time includes.
    """
    from drillbook.cli.main import app

    began, began_cpu = time.perf_counter(), time.process_time()
    with _silenced(), contextlib.suppress(SystemExit):
        app(["-L", str(library), *args], standalone_mode=False)
    return time.perf_counter() - began, time.process_time() - began_cpu


def run_process(library: Path, *args: str) -> float:
    """Wall seconds of ``drillbook -L library ARGS`` as a user runs it: a new process,
    with Python's start-up and drillbook's imports (byte-code cached, as an installed
    program has it; the first run writes the cache), on the real clock."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    command = [sys.executable, "-m", "drillbook", "-L", str(library), *args]
    began = time.perf_counter()
    subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - began


@contextlib.contextmanager
def _database(url: str | None, folder: Path) -> Iterator[str]:
    if not url:
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    url = (
        url.replace("postgresql://", "postgresql+psycopg://", 1)
        if url.startswith("postgresql://")
        else url
    )
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in url else "?"
    try:
        yield f"{url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def measure(
    url: str | None,
    findings: int,
    exercises: int,
    commands: list[list[str]],
    *,
    processes: bool = False,
) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch, _database(url, Path(scratch)) as db_url:
        library = Path(scratch) / "lib"
        scaffold(library)
        os.environ["DRILLBOOK_DATABASE_URL"] = db_url
        store = Store(db_url)
        began = time.perf_counter()
        seed(store, findings, exercises)
        if store.engine.dialect.name == "postgresql":
            # steady state: autovacuum vacuums and analyzes a table soon after a bulk load
            # (PostgreSQL 13 and later count inserts too). Without statistics the planner
            # guesses; without a vacuum no page is marked all-visible, so an index that
            # covers a query is still read with a visit to every row (the time to close
            # took 0.16 s instead of 0.05). The figures would depend on when it wakes.
            with store.engine.connect().execution_options(
                isolation_level="AUTOCOMMIT"
            ) as connection:
                connection.execute(text("VACUUM ANALYZE"))
        print(
            f"  seeded {findings:,} findings over {exercises:,} exercises in "
            f"{time.perf_counter() - began:.1f} s",
            flush=True,
        )
        store.close()
        # Import every command module first: start-up is bench_startup.py's to measure.
        from drillbook.cli.app import load_all_commands

        load_all_commands()
        times = {}
        if processes:
            run_process(library, "--version")  # writes the byte-code cache
        for args in commands:
            wall, cpu = run_cli(library, *args)
            times[" ".join(args)] = wall
            line = f"  {' '.join(args):<40} {wall:7.2f} s  (CPU {cpu:5.2f} s)"
            if processes:
                line += f"  new process {run_process(library, *args):5.2f} s"
            print(line, flush=True)
        return times


COMMANDS = [
    ["metrics", "--json"],
    ["metrics"],
    ["schedule", "--json"],
    ["finding", "list", "--json"],
    ["finding", "list", "--json", "--limit", "100"],
    ["finding", "list", "--json", "--all"],
    ["finding", "list"],
    ["finding", "list", "--overdue"],
    ["finding", "list", "--overdue", "--limit", "100"],
    ["finding", "list", "--overdue", "--json"],
    ["finding", "list", "--overdue", "--json", "--all"],
    ["finding", "rank", "--limit", "20"],
    ["followup", "--json"],
    ["lint"],
    ["exercise", "list"],
    ["exercise", "list", "--json"],
]


# Every finding with its history as JSON (tens of megabytes): printed, but an export is
# not one of the interactive commands the one-second target is for
EXPORTS = {"finding list --json --all", "finding list --overdue --json --all"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", nargs="?", default=os.environ.get("DRILLBOOK_TEST_DATABASE_URL"))
    parser.add_argument("--findings", type=int, default=100_000)
    parser.add_argument("--exercises", type=int, default=10_000)
    parser.add_argument("--sqlite", action="store_true", help="ignore the PostgreSQL URL")
    parser.add_argument(
        "--no-processes",
        dest="processes",
        action="store_false",
        help="skip timing each command again as a new process (start-up included)",
    )
    options = parser.parse_args()
    url = None if options.sqlite else options.url
    fake = clock.FakeClock(datetime.combine(TODAY, dtime(12), tzinfo=UTC))
    with clock.use_clock(fake):
        print(f"{'PostgreSQL' if url else 'SQLite'}: {options.findings:,} findings", flush=True)
        times = measure(
            url, options.findings, options.exercises, COMMANDS, processes=options.processes
        )
        rank = ["finding", "rank", "--limit", "20"]
        print(f"finding rank at {options.findings // 10:,} findings:", flush=True)
        small_time = measure(url, options.findings // 10, max(1, options.exercises // 10), [rank])
    growth = {
        options.findings // 10: small_time[" ".join(rank)],
        options.findings: times[" ".join(rank)],
    }
    slow = sorted(k for k, v in times.items() if v > TARGET_SECONDS and k not in EXPORTS)
    small, large = growth
    print(
        f"rank: {small:,} -> {growth[small]:.2f} s, {large:,} -> {growth[large]:.2f} s "
        f"(x{growth[large] / max(growth[small], 1e-9):.1f} for x{large // small} the findings)"
    )
    if slow:
        print(f"over {TARGET_SECONDS:g} s:", ", ".join(slow))
    return 0


if __name__ == "__main__":
    sys.exit(main())
