"""Lint: each reviewer's check on a constructed file, the report, the CLI, the hooks."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.domain.finding.repeats import FindingRepeat
from drillbook.errors import Problem
from drillbook.flows import lint_library as lint
from drillbook.flows.lint_library import (
    LintReport,
    lint_library,
    repeat_findings_check,
)
from drillbook.flows.lint_rules import ROLE_ALIASES, canonical_role
from drillbook.flows.scenario_revisions import content_hash, record_revisions
from drillbook.library.loader import load_scenario_file
from drillbook.storage.engine import Store
from drillbook.storage.models import ScenarioRevision
from tests.helpers import SEED

TODAY = date(2026, 11, 21)

GOOD = """\
id: good
title: Good scenario
duration: 60m
last_reviewed: 2026-11-01
participants:
  - role: incident_lead
  - role: comms_lead
initial_state: Something happened.
injects:
  - time: 0m
    description: Alert.
  - time: 15m
    description: More.
    audience: [incident_commander]
  - time: 30m
    description: Even more.
  - time: 45m
    description: The end is near.
success_criteria:
  - Incident commander identified within 5 minutes
  - Containment decision by t+30
"""


def _library(tmp_path: Path, scenarios: dict[str, str], program: str = "organisation: T\n") -> Path:
    root = tmp_path / "lib"
    (root / "scenarios").mkdir(parents=True)
    (root / "drillbook.yaml").write_text(program, encoding="utf-8")
    for name, text in scenarios.items():
        (root / "scenarios" / f"{name}.yaml").write_text(text, encoding="utf-8")
    return root


def _lint(tmp_path: Path, text: str, **kwargs: object) -> LintReport:
    root = _library(tmp_path, {"s": text})
    return lint_library(root, include_builtin=False, today=TODAY, **kwargs)  # type: ignore[arg-type]


def _codes(report: LintReport) -> list[tuple[str, str]]:
    return [(p.code, p.level) for p in report.problems]


def _only(report: LintReport, code: str) -> Problem:
    found = [p for p in report.problems if p.code == code]
    assert len(found) == 1, report.problems
    return found[0]


def test_good_scenario_is_clean(tmp_path: Path) -> None:
    report = _lint(tmp_path, GOOD)
    assert report.problems == []
    assert not report.failed(strict=True)
    assert list(report.scenarios) == ["good"]


def test_the_seed_scenario_lints_clean(tmp_path: Path) -> None:
    text = (SEED / "scenarios" / "data-exfil-via-mcp.yaml").read_text(encoding="utf-8")
    assert _lint(tmp_path, text).problems == []


def test_inject_after_the_end(tmp_path: Path) -> None:
    report = _lint(tmp_path, GOOD.replace("time: 45m", "time: 75m"))
    problem = _only(report, "inject-after-end")
    assert (problem.location.line, problem.location.column) == (17, 11)
    assert problem.level == "error"
    assert "after the scenario ends (60m)" in problem.message
    assert report.failed()


def test_injects_out_of_order(tmp_path: Path) -> None:
    text = GOOD.replace("time: 30m", "time: 10m")
    problem = _only(_lint(tmp_path, text), "inject-order")
    assert problem.location.line == 15
    assert "comes after one at 15m" in problem.message


def test_gap_between_injects_is_a_warning(tmp_path: Path) -> None:
    text = GOOD.replace("  - time: 30m\n    description: Even more.\n", "")
    report = _lint(tmp_path, text)
    problem = _only(report, "inject-gap")
    assert problem.level == "warning"
    assert problem.message.startswith("30m without new information")
    assert not report.failed()
    assert report.failed(strict=True)


def test_late_first_inject_is_a_gap(tmp_path: Path) -> None:
    text = GOOD.replace("time: 0m", "time: 16m").replace("time: 15m", "time: 20m")
    problem = _only(_lint(tmp_path, text), "inject-gap")
    assert "first inject comes only at 16m" in problem.message


def test_duplicate_ids_across_files(tmp_path: Path) -> None:
    root = _library(tmp_path, {"a": GOOD, "b": GOOD})
    report = lint_library(root, include_builtin=False, today=TODAY)
    problem = _only(report, "duplicate-id")
    assert problem.location.path.endswith("b.yaml")
    assert (problem.location.line, problem.location.column) == (1, 5)
    assert "also in" in problem.message
    assert "a.yaml" in problem.message


def test_unknown_roles(tmp_path: Path) -> None:
    text = GOOD.replace("audience: [incident_commander]", "audience: [legal]") + (
        "decision_points:\n"
        "  - phase: detection\n    question: Who?\n    owner_role: ciso\n"
        "  - phase: containment\n    question: What?\n"
        "  - phase: communication\n    question: Say?\n"
        "  - phase: post_incident_review\n    question: Fix?\n"
        "    owner_role: incident_commander\n"
    )
    report = _lint(tmp_path, text)
    unknown = [p for p in report.problems if p.code == "unknown-role"]
    assert [p.location.line for p in unknown] == [14, 25]
    assert "'legal'" in unknown[0].message
    assert "(listed: incident_lead, comms_lead)" in (unknown[0].message)
    assert "'ciso'" in unknown[1].message
    assert all(p.level == "error" for p in unknown)


def test_explicit_criterion_role_must_be_a_participant(tmp_path: Path) -> None:
    text = GOOD + (
        "  - text: Legal engaged\n    by: 20m\n    evidence: {event: role_assigned, role: legal}\n"
    )
    problem = _only(_lint(tmp_path, text), "unknown-role")
    assert problem.location.line == 24
    assert problem.level == "error"


def test_guessed_criterion_role_is_a_warning(tmp_path: Path) -> None:
    text = GOOD.replace("  - role: incident_lead\n", "  - role: security_lead\n").replace(
        "audience: [incident_commander]", "audience: [security_lead]"
    )
    problem = _only(_lint(tmp_path, text), "unknown-role")
    assert problem.level == "warning"
    assert "'incident_commander'" in problem.message


def test_role_aliases() -> None:
    assert canonical_role("incident_lead") == canonical_role("incident_commander")
    assert canonical_role("comms") == canonical_role("comms_lead")
    assert all(canonical_role(v) == v for v in ROLE_ALIASES.values())


def test_missing_success_criteria_is_an_error(tmp_path: Path) -> None:
    text = GOOD.split("success_criteria:")[0]
    problem = _only(_lint(tmp_path, text), "no-criteria")
    assert problem.level == "error"
    assert problem.location.line == 1


def test_empty_success_criteria_points_at_the_key(tmp_path: Path) -> None:
    text = GOOD.split("success_criteria:")[0] + "success_criteria: []\n"
    problem = _only(_lint(tmp_path, text), "no-criteria")
    assert (problem.location.line, problem.location.column) == (19, 1)


def test_unmeasurable_criterion_is_a_warning(tmp_path: Path) -> None:
    text = GOOD + "  - Everyone felt good about it\n"
    problem = _only(_lint(tmp_path, text), "unmeasurable-criterion")
    assert problem.level == "warning"
    assert problem.location.line == 22


def test_criterion_deadline_after_the_end(tmp_path: Path) -> None:
    text = GOOD.replace("by t+30", "by t+90")
    problem = _only(_lint(tmp_path, text), "criterion-after-end")
    assert problem.location.line == 21


PHASES = """\
phases:
  - name: detection
    start: 0m
    end: 15m
  - name: containment
    start: 15m
    end: 30m
  - name: communication
    start: 30m
    end: 50m
  - name: post_incident_review
    start: 50m
    end: 60m
"""


def test_well_formed_phases_are_clean(tmp_path: Path) -> None:
    assert _lint(tmp_path, GOOD + PHASES).problems == []


def test_overlapping_phases(tmp_path: Path) -> None:
    text = GOOD + PHASES.replace("    start: 30m\n", "    start: 25m\n")
    problem = _only(_lint(tmp_path, text), "phase-overlap")
    assert problem.location.line == 30
    assert "'communication' starts at 25m, before 'containment' ends (30m)" in problem.message


def test_phase_past_the_end_and_empty_phase(tmp_path: Path) -> None:
    text = GOOD + PHASES.replace("    end: 60m\n", "    end: 70m\n").replace(
        "    start: 15m\n    end: 30m\n", "    start: 15m\n    end: 15m\n"
    )
    codes = {p.code for p in _lint(tmp_path, text).problems}
    assert {"phase-after-end", "phase-empty"} <= codes


def test_duplicate_phase(tmp_path: Path) -> None:
    text = GOOD + PHASES.replace("name: post_incident_review", "name: detection")
    assert "phase-duplicate" in {p.code for p in _lint(tmp_path, text).problems}


def test_phase_without_decision_point(tmp_path: Path) -> None:
    text = (
        GOOD
        + PHASES
        + (
            "decision_points:\n"
            "  - phase: detection\n    question: Who leads?\n"
            "  - phase: containment\n    question: Pause the agent?\n"
            "  - phase: communication\n    question: Tell the customer now?\n"
        )
    )
    problem = _only(_lint(tmp_path, text), "phase-without-decision")
    assert problem.level == "warning"
    assert "'post_incident_review'" in problem.message
    assert problem.location.line == 32  # the phase's name line


def test_no_decision_points_at_all_is_not_judged(tmp_path: Path) -> None:
    assert "phase-without-decision" not in {p.code for p in _lint(tmp_path, GOOD).problems}


def test_decision_point_after_the_end(tmp_path: Path) -> None:
    text = GOOD + (
        "decision_points:\n"
        "  - {phase: detection, question: A?, at: 5m}\n"
        "  - {phase: containment, question: B?}\n"
        "  - {phase: communication, question: C?}\n"
        "  - {phase: post_incident_review, question: D?, at: 65m}\n"
    )
    problem = _only(_lint(tmp_path, text), "time-after-end")
    assert problem.location.line == 26


def test_inject_phase_mismatch(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    description: Alert.\n", "    description: Alert.\n    phase: containment\n"
    )
    problem = _only(_lint(tmp_path, text), "inject-phase-mismatch")
    assert "falls in 'detection'" in problem.message


def test_stale_scenario_against_the_program_cadence(tmp_path: Path) -> None:
    text = GOOD.replace("last_reviewed: 2026-11-01", "last_reviewed: 2026-01-15")
    problem = _only(_lint(tmp_path, text), "stale")
    assert problem.level == "warning"
    assert problem.location.line == 4
    assert "310 days ago" in problem.message
    assert "every 91 days" in problem.message
    root = _library(
        tmp_path / "yearly",
        {"s": text},
        program="organisation: T\ncadence:\n  review_library_every: 52w\n",
    )
    assert lint_library(root, include_builtin=False, today=TODAY).problems == []


def test_review_in_the_future(tmp_path: Path) -> None:
    text = GOOD.replace("last_reviewed: 2026-11-01", "last_reviewed: 2027-01-01")
    assert _only(_lint(tmp_path, text), "review-in-future").level == "warning"


def test_program_errors_are_reported_with_scenario_problems(tmp_path: Path) -> None:
    root = _library(
        tmp_path,
        {"s": GOOD.replace("time: 45m", "time: 75m")},
        program="organisation: T\nsla:\n  critical: soon\n",
    )
    report = lint_library(root, include_builtin=False, today=TODAY)
    assert {p.code for p in report.errors} == {"schema", "inject-after-end"}
    program = next(p for p in report.problems if p.code == "schema")
    assert str(program).startswith(f"{root / 'drillbook.yaml'}:3:13: sla.critical: 'soon'")


def test_missing_program_file(tmp_path: Path) -> None:
    root = tmp_path / "empty"
    root.mkdir()
    problem = _only(lint_library(root, include_builtin=False, today=TODAY), "missing-file")
    assert "drillbook.yaml not found" in problem.message


def test_inventory_is_linted_when_present(tmp_path: Path) -> None:
    root = _library(tmp_path, {"s": GOOD})
    assert lint_library(root, include_builtin=False, today=TODAY).problems == []
    (root / "inventory.yaml").write_text(
        "agents:\n  - name: bot\n    tools: [crm-rite]\n", encoding="utf-8"
    )
    report = lint_library(root, include_builtin=False, today=TODAY)
    problem = report.errors[0]
    assert problem.location.path == str(root / "inventory.yaml")
    assert problem.location.line == 3
    assert "crm-rite" in problem.message


def test_every_broken_file_is_reported_at_once(tmp_path: Path) -> None:
    root = _library(
        tmp_path,
        {
            "a": "id: [\n",
            "b": GOOD.replace("title:", "titel:"),
            "c": GOOD.replace("id: good", "id: c").replace("45m", "99m"),
        },
    )
    report = lint_library(root, include_builtin=False, today=TODAY)
    paths = {Path(p.location.path).name for p in report.errors}
    assert paths == {"a.yaml", "b.yaml", "c.yaml"}


def test_repeat_findings_hook_is_a_noop_without_findings(tmp_path: Path) -> None:
    report = _lint(tmp_path, GOOD)
    assert "findings-repeat" not in {p.code for p in report.problems}


def test_repeat_findings_hook_warns_when_scenario_unchanged(tmp_path: Path) -> None:
    first = datetime(2026, 6, 1, tzinfo=UTC)

    def repeats(scenario_id: str) -> list[FindingRepeat]:
        return [FindingRepeat(scenario_id, "F-001 IC not identified", 3, first)]

    report = _lint(tmp_path, GOOD, finding_repeats=repeats)
    problem = _only(report, "findings-repeat")
    assert "repeated in 3 runs" in problem.message
    loaded = report.scenarios["good"]
    # changed after the finding first appeared: the team did something, no warning
    assert repeat_findings_check(loaded, repeats("good"), first + timedelta(days=1)) == []
    assert len(repeat_findings_check(loaded, repeats("good"), first - timedelta(days=1))) == 1


def test_lint_records_scenario_revisions(tmp_path: Path, store: Store, fake_clock: object) -> None:
    root = _library(tmp_path, {"s": GOOD})
    lint_library(root, include_builtin=False, today=TODAY, store=store)
    lint_library(root, include_builtin=False, today=TODAY, store=store)
    (root / "scenarios" / "s.yaml").write_text(GOOD.replace("Alert.", "Alarm."), encoding="utf-8")
    lint_library(root, include_builtin=False, today=TODAY, store=store)
    with store.session() as session:
        rows = session.execute(select(ScenarioRevision)).scalars().all()
    assert [row.scenario_id for row in rows] == ["good", "good"]
    assert len({row.content_hash for row in rows}) == 2
    assert all(row.first_seen.tzinfo is not None for row in rows)


def test_with_a_store_lint_asks_the_findings_domain(
    tmp_path: Path, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = datetime(2026, 6, 1, tzinfo=UTC)

    def finding_repeats(
        store: Store, *, early: bool = False
    ) -> Callable[[str], list[FindingRepeat]]:
        assert store is sqlite_store
        assert early  # asked before the files are read
        return lambda sid: [FindingRepeat(sid, "F-002 no runbook", 2, first)]

    monkeypatch.setattr(lint, "store_finding_repeats", finding_repeats)
    root = _library(tmp_path, {"s": GOOD})
    # the content is first seen now (after the finding): the team changed it, no warning
    report = lint_library(root, include_builtin=False, today=TODAY, store=sqlite_store)
    assert "findings-repeat" not in {p.code for p in report.problems}
    later = lint_library(
        root,
        include_builtin=False,
        today=TODAY,
        store=sqlite_store,
        finding_repeats=lambda sid: [
            FindingRepeat(sid, "F-002 no runbook", 2, datetime(2100, 1, 1, tzinfo=UTC))
        ],
    )
    assert "findings-repeat" in {p.code for p in later.problems}


def test_content_hash_ignores_layout_but_not_content(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "c.yaml"
    a.write_text(GOOD, encoding="utf-8")
    b.write_text(
        "# a comment\n"
        + GOOD.replace("audience: [incident_commander]", "audience:\n      - incident_commander"),
        encoding="utf-8",
    )
    c.write_text(GOOD.replace("Alert.", "Alarm."), encoding="utf-8")
    hashes = [content_hash(load_scenario_file(p)) for p in (a, b, c)]
    assert hashes[0] == hashes[1] != hashes[2]


def test_record_revisions_returns_first_seen(sqlite_store: Store) -> None:
    assert record_revisions(sqlite_store, []) == {}


def test_the_builtin_library_lints_without_errors() -> None:
    report = lint_library(None, include_builtin=True, today=TODAY)
    assert report.errors == [], "\n".join(str(p) for p in report.errors)


# -- the CLI -----------------------------------------------------------------------------


def test_cli_text_output_groups_by_file(tmp_path: Path, runner: CliRunner) -> None:
    root = _library(tmp_path, {"s": GOOD.replace("time: 45m", "time: 75m")})
    result = runner.invoke(app, ["lint", str(root), "--no-builtin"])
    assert result.exit_code == 1
    path = root / "scenarios" / "s.yaml"
    lines = result.output.splitlines()
    assert lines[0] == str(path)
    assert lines[1].startswith(f"  {path}:17:11: inject at 75m is after the scenario ends")
    assert "1 error, 1 warning in 2 files (1 scenario) in " in result.output


def test_cli_warnings_pass_unless_strict(tmp_path: Path, runner: CliRunner) -> None:
    root = _library(tmp_path, {"s": GOOD + "  - Everyone felt good\n"})
    assert runner.invoke(app, ["lint", str(root), "--no-builtin"]).exit_code == 0
    assert runner.invoke(app, ["lint", str(root), "--no-builtin", "--strict"]).exit_code == 1


def test_cli_json_for_ci(tmp_path: Path, runner: CliRunner) -> None:
    root = _library(tmp_path, {"s": GOOD.replace("time: 45m", "time: 75m")})
    result = runner.invoke(
        app, ["--library", str(root), "lint", "--format", "json", "--no-builtin"]
    )
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["errors"] == 1
    assert data["ok"] is False
    assert data["problems"][0] == {
        "path": str(root / "scenarios" / "s.yaml"),
        "line": 17,
        "column": 11,
        "level": "error",
        "code": "inject-after-end",
        "message": "inject at 75m is after the scenario ends (60m); move it earlier or "
        "lengthen duration",
    }


def test_cli_records_revisions_only_when_a_store_exists(tmp_path: Path, runner: CliRunner) -> None:
    root = _library(tmp_path, {"s": GOOD})
    assert runner.invoke(app, ["lint", str(root), "--no-builtin"]).exit_code == 0
    assert not (root / ".drillbook").exists()
    (root / ".drillbook").mkdir()
    Store(f"sqlite:///{root / '.drillbook' / 'drillbook.db'}").close()  # set up a store
    assert runner.invoke(app, ["lint", str(root), "--no-builtin"]).exit_code == 0
    check = Store(f"sqlite:///{root / '.drillbook' / 'drillbook.db'}")
    with check.session() as session:
        assert session.execute(select(ScenarioRevision.scenario_id)).scalars().all() == ["good"]
    check.close()


@pytest.mark.parametrize("flag", ["--no-builtin"])
def test_cli_without_a_library(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch, flag: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["lint", flag])
    assert result.exit_code == 1
    assert "nothing to lint" in result.output


def test_program_references_are_located_all_at_once(tmp_path: Path) -> None:
    program = (
        "organisation: T\nteams:\n  - id: sre\npeople:\n  - id: a\n    team: sre\n"
        "  - id: a\n    team: nope\n"
    )
    root = _library(tmp_path, {}, program)
    report = lint_library(root, include_builtin=False, today=TODAY)
    assert [(p.code, p.location.line, p.location.column) for p in report.problems] == [
        ("duplicate-id", 7, 9),
        ("unknown-team", 8, 11),
    ]


def test_the_callers_checks_run_before_the_repeats_are_asked(tmp_path: Path) -> None:
    """``also`` (lint_paths' drills and drillbook.yaml sections) runs once the files are
    read and every scenario is checked, before the first question for repeats: the
    database has the longest to read while Python works."""
    order: list[str] = []

    def repeats(scenario_id: str) -> list[FindingRepeat]:
        order.append(f"repeats {scenario_id}")
        return []

    def also(report: LintReport) -> None:
        assert "good" in report.scenarios
        order.append("also")

    root = _library(tmp_path, {"s": GOOD})
    lint_library(root, include_builtin=False, today=TODAY, finding_repeats=repeats, also=also)
    assert order == ["also", "repeats good"]


def test_a_lint_that_fails_releases_the_repeat_thread(
    tmp_path: Path, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lint stopped by an error lets the thread it started finish (it would otherwise
    wait for a question that never comes, holding its read open)."""
    from drillbook.domain.finding.repeats_store import StoredRepeats

    started: list[StoredRepeats] = []

    def finding_repeats(store: Store, *, early: bool = False) -> StoredRepeats:
        started.append(StoredRepeats(store.reading, early=early))
        return started[-1]

    def broken(ctx: object) -> list[Problem]:
        raise RuntimeError("check failed")

    monkeypatch.setattr(lint, "store_finding_repeats", finding_repeats)
    monkeypatch.setattr(lint, "check_scenario", broken)
    root = _library(tmp_path, {"s": GOOD})
    with pytest.raises(RuntimeError, match="check failed"):
        lint_library(root, include_builtin=False, today=TODAY, store=sqlite_store)
    (stored,) = started
    assert stored._worker is not None
    stored._worker.join(timeout=10)
    assert not stored._worker.is_alive()


def test_lint_reads_the_built_in_scenarios_as_loading_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The built-in scenarios the process has loaded are the ones lint checks; when
    they cannot load, lint parses them itself to list every problem."""
    from drillbook.errors import LibraryError, Location
    from drillbook.library.loader import builtin_scenario_paths, load_scenarios

    paths = builtin_scenario_paths()
    parsed, problems = load_scenarios(paths, builtin=True)
    cached, none = lint._builtin_scenarios(paths)
    assert problems == none == []
    assert list(cached) == list(parsed)
    assert [(s.path, s.builtin, s.scenario, s.document) for s in cached.values()] == [
        (s.path, s.builtin, s.scenario, s.document) for s in parsed.values()
    ]

    def broken() -> dict[str, object]:
        raise LibraryError([Problem(Location("x.yaml", 1, 1), "broken", "yaml")])

    monkeypatch.setattr(lint, "load_builtin", broken)
    assert lint._builtin_scenarios(paths) == (parsed, [])
