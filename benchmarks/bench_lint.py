"""Lint a generated 40-scenario library and print how long it took.

Target: well under one second (issue: "Lint is fast"). Each scenario is the size of a
real one (phases, decision points, escalations, a dozen injects), so the figure is
honest. Run: ``.venv/bin/python benchmarks/bench_lint.py [COUNT]``.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from drillbook.flows.lint_library import lint_library

TARGET_SECONDS = 1.0


def scenario_text(number: int) -> str:
    injects = "".join(
        f"  - time: {minute}m\n"
        f"    description: |\n"
        f"      Update {minute // 5}: new information about the incident drops for the team,\n"
        f"      with enough detail to force a decision in scenario {number}.\n"
        f"    audience: [incident_commander]\n"
        for minute in range(0, 90, 7)
    )
    return f"""\
# Generated for the lint benchmark.
id: bench-{number:03d}
title: Benchmark scenario {number}
duration: 90m
category: data_exfiltration
severity: high
difficulty: standard
owner: security-team
last_reviewed: 2026-11-01
tags: [T1567, T1041, LLM01]
participants:
  - role: incident_commander
    typical_attendee: senior-sre
  - role: security_lead
    typical_attendee: security-engineer
  - role: comms_lead
    typical_attendee: pr-lead
  - role: legal
    typical_attendee: counsel
initial_state: |
  It's Tuesday at 14:30 UTC. A monitoring alert just fired for scenario {number}.
  Bytes are leaving a service that should not talk to the internet.
injects:
{injects}phases:
  - {{name: detection, start: 0m, end: 22m, questions: [Who do you wake up?]}}
  - {{name: containment, start: 22m, end: 45m, questions: [What do you turn off?]}}
  - {{name: communication, start: 45m, end: 75m, questions: [Who tells the customer?]}}
  - {{name: post_incident_review, start: 75m, end: 90m, questions: [What do we fix?]}}
decision_points:
  - {{phase: detection, question: Declare an incident?, owner_role: incident_commander}}
  - {{phase: containment, question: Take the service offline?, owner_role: security_lead}}
  - {{phase: communication, question: Notify customers now?, owner_role: comms_lead}}
  - {{phase: post_incident_review, question: Which fix first?, owner_role: incident_commander}}
escalations:
  - trigger: containment decided before 15m
    description: A second service shows the same traffic.
discussion_questions:
  - At t+0, who do you wake up?
  - When does this become a regulator-reporting incident?
success_criteria:
  - Incident commander identified within 5 minutes
  - Containment decision (offline vs. quarantine) at t+30 or earlier
  - Data scope quantified by t+60
  - Customer comms drafted by t+90
"""


def build_library(root: Path, count: int) -> None:
    (root / "scenarios").mkdir(parents=True)
    (root / "drillbook.yaml").write_text("organisation: Benchmark\n", encoding="utf-8")
    for number in range(count):
        path = root / "scenarios" / f"bench-{number:03d}.yaml"
        path.write_text(scenario_text(number), encoding="utf-8")


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    with tempfile.TemporaryDirectory(prefix="drillbook-bench-") as folder:
        root = Path(folder) / "library"
        build_library(root, count)
        timings = []
        report = None
        for _ in range(5):
            started = time.perf_counter()
            report = lint_library(root, include_builtin=False, today=date(2026, 11, 21))
            timings.append(time.perf_counter() - started)
        assert report is not None
        best, median = min(timings), statistics.median(timings)
        print(
            f"lint of {count} scenarios: median {median * 1000:.0f} ms, best {best * 1000:.0f} "
            f"ms ({len(report.errors)} errors, {len(report.warnings)} warnings); "
            f"target < {TARGET_SECONDS:.0f} s"
        )
        if report.errors:
            for problem in report.errors[:5]:
                print(problem)
            return 1
        return 0 if median < TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
