"""The ATT&CK Navigator layer (format 4.5) built from detection history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from drillbook.domain.scorecard.models import DetectionResultRow
from drillbook.domain.scorecard.navigator import build_layer

T0 = datetime(2026, 4, 29, 14, 30, tzinfo=UTC)


def row(
    technique: str,
    *,
    fired: bool,
    day: int,
    finding: str | None = None,
    severity: str | None = "low",
    expected: str | None = None,
) -> DetectionResultRow:
    return DetectionResultRow(
        id=day,
        drill_run_id=f"run{day}",
        technique_run_id=f"t{day}",
        technique=technique,
        expected_rule="r.yml",
        backend="local",
        verdict="fired" if fired else "not_fired",
        fired=fired,
        fired_severity=severity if fired else None,
        expected_severity=expected,
        time_to_alert_seconds=12.0 if fired else None,
        finding_id=finding,
        checked_at=T0 + timedelta(days=day),
    )


def test_layer_scores_pass_rate_and_comments_on_the_last_run() -> None:
    layer = build_layer(
        [
            row("T1082", fired=False, day=1, finding="F-001"),
            row("T1082", fired=True, day=2),
            row(
                "T1059.004",
                fired=True,
                day=1,
                severity="medium",
                expected="critical",
                finding="F-002",
            ),
            row("aws.persistence.iam-create-user-login-profile", fired=False, day=1),
        ]
    )
    assert layer["versions"] == {"attack": "16", "navigator": "5.1", "layer": "4.5"}
    assert layer["domain"] == "enterprise-attack"
    by_id = {t["techniqueID"]: t for t in layer["techniques"]}
    assert set(by_id) == {"T1082", "T1059.004"}
    assert by_id["T1082"]["score"] == 50
    assert "drill run2" in by_id["T1082"]["comment"]
    assert "fired" in by_id["T1082"]["comment"]
    assert "12s" in by_id["T1082"]["comment"]
    assert by_id["T1059.004"]["score"] == 0  # fired with the wrong severity is not a pass
    assert "finding F-002" in by_id["T1059.004"]["comment"]
    names = {m["name"] for m in by_id["T1082"]["metadata"]}
    assert {"drill", "last_run", "outcome", "time_to_alert_seconds", "finding"} <= names
    assert "aws.persistence.iam-create-user-login-profile" in layer["description"]
