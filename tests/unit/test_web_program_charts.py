"""The dashboard's program charts: server-side SVG, team-scoped, hostile text escaped."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

from drillbook.storage.engine import Store
from tests.web_helpers import client_for

HOSTILE = '<script>alert("x")</script>'


def _library(tmp_path: Path, teams: bool = True) -> Path:
    root = tmp_path / "lib"
    (root / "scenarios").mkdir(parents=True)
    text = "organisation: Example Corp\n"
    if teams:
        text += "teams:\n  - id: sre-team\n    name: SRE\n  - id: payments\n    name: Payments\n"
    (root / "drillbook.yaml").write_text(text)
    return root


def _drill(store: Store, run_id: str, team: str, results: list[tuple[str, bool]]) -> None:
    from drillbook import clock
    from drillbook.domain.drill.models import DrillRun
    from drillbook.domain.scorecard.models import DetectionResultRow

    with store.session() as session:
        session.add(
            DrillRun(
                id=run_id,
                plan_name=f"{team}-drill",
                plan_path="drills/x.yaml",
                target="local",
                status="completed",
                started_at=clock.now(),
                runner_host="h",
                operator="o",
                safety={},
                team=team,
            )
        )
        for number, (technique, fired) in enumerate(results):
            session.add(
                DetectionResultRow(
                    drill_run_id=run_id,
                    technique_run_id=f"{run_id}-{number}",
                    technique=technique,
                    expected_rule="rule",
                    backend="local",
                    verdict="detected" if fired else "missed",
                    fired=fired,
                    checked_at=clock.now() - timedelta(days=1),
                )
            )


def _seed(store: Store) -> None:
    from drillbook.domain.finding.service import create_finding

    _drill(store, "a" * 32, "sre-team", [("T1082-1", True), ("T1082-2", False)])
    _drill(store, "b" * 32, "payments", [("aws.impact.s3-ransomware-batch-deletion", True)])
    with store.session() as session:
        for team, severity in (("sre-team", "high"), ("payments", "critical")):
            create_finding(
                session,
                description=f"{team} gap",
                severity=severity,
                source="drill",
                team=team,
            )


def store_today() -> date:
    from drillbook import clock

    return clock.today()


def _figure(page: str, slug: str) -> str:
    found = re.search(rf'<figure class="chart" id="chart-{slug}">(.*?)</figure>', page, re.S)
    assert found, f"no chart {slug}"
    return found.group(1)


def test_dashboard_draws_four_svg_charts_without_inline_script(
    tmp_path: Path, sqlite_store: Store
) -> None:
    _seed(sqlite_store)
    client, _ = client_for(_library(tmp_path), sqlite_store, "olga")
    page = client.get("/")
    assert page.status_code == 200
    for slug in ("open-findings", "time-to-close", "pass-rate-by-tactic", "schedule"):
        assert "<svg" in _figure(page.text, slug)
    tactics = _figure(page.text, "pass-rate-by-tactic")
    # T1082 is discovery (1 of 2 fired); the Stratus id names its tactic (1 of 1)
    assert ">discovery</text>" in tactics
    assert ">50%</text>" in tactics
    assert ">impact</text>" in tactics
    assert ">100%</text>" in tactics
    assert tactics.index("discovery") < tactics.index("impact")  # ATT&CK's order
    schedule = _figure(page.text, "schedule")
    assert ">sre-team</text>" in schedule
    assert ">payments</text>" in schedule
    # the CSP stays as it was: no inline script or style anywhere on the page
    assert "<script>" not in page.text
    assert "style=" not in page.text
    assert "<style" not in page.text
    assert "'unsafe-inline'" not in page.headers["content-security-policy"].split("style-src")[1]


def test_dashboard_charts_are_scoped_to_the_viewers_team(tmp_path: Path, store: Store) -> None:
    _seed(store)
    library = _library(tmp_path)
    sre, _ = client_for(library, store, "alice", "member", "sre-team")
    page = sre.get("/").text
    tactics = _figure(page, "pass-rate-by-tactic")
    assert ">discovery</text>" in tactics
    assert "impact" not in tactics  # the payments team's drill
    assert "payments" not in _figure(page, "schedule")
    payments, _ = client_for(library, store, "bob", "member", "payments")
    page = payments.get("/").text
    tactics = _figure(page, "pass-rate-by-tactic")
    assert ">impact</text>" in tactics
    assert "discovery" not in tactics
    assert "sre-team" not in _figure(page, "schedule")


def test_open_findings_trend_counts_only_visible_findings(
    tmp_path: Path, sqlite_store: Store
) -> None:
    from drillbook.domain.account.access import Principal
    from drillbook.domain.account.enums import AccountRole
    from drillbook.domain.program.trends import open_by_severity

    _seed(sqlite_store)
    points = [store_today() + timedelta(days=1)]
    with sqlite_store.session() as session:
        admin = Principal("a", AccountRole.ADMIN)
        sre = Principal("s", AccountRole.MEMBER, team="sre-team")
        nobody = Principal("n", AccountRole.MEMBER, team=None)
        everything = open_by_severity(session, points, viewer=admin)
        mine = open_by_severity(session, points, viewer=sre)
        none = open_by_severity(session, points, viewer=nobody)
    assert everything["critical"][-1] == 1
    assert everything["high"][-1] == 1
    assert mine["critical"][-1] == 0
    assert mine["high"][-1] == 1
    assert sum(sum(v) for v in none.values()) == 0


def test_hostile_team_names_are_escaped_in_the_charts(tmp_path: Path, sqlite_store: Store) -> None:
    from drillbook.domain.exercise import service
    from drillbook.library.loader import load_scenario_file

    seed = Path(__file__).parents[1] / "files" / "seed" / "scenarios" / "data-exfil-via-mcp.yaml"
    scenario = load_scenario_file(seed).scenario
    with sqlite_store.session() as session:
        service.create_exercise(session, scenario=scenario, team=HOSTILE, assignments={})
    _drill(sqlite_store, "c" * 32, HOSTILE, [(f"{HOSTILE}.{HOSTILE}.x", False)])
    client, _ = client_for(_library(tmp_path, teams=False), sqlite_store, "olga")
    page = client.get("/")
    assert page.status_code == 200
    assert HOSTILE not in page.text
    assert "&lt;script&gt;" in _figure(page.text, "schedule")
    assert ">unmapped</text>" in _figure(page.text, "pass-rate-by-tactic")
