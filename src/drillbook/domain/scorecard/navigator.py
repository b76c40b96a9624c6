"""ATT&CK Navigator layer (format 4.5) from the detection history.

Per ATT&CK technique: ``score`` is the pass rate (0-100) of its detections over all
checked drills; ``comment`` names the last drill, when it ran, its outcome, the time to
alert and the finding, if any. Atomic Red Team results (``T1082-3``: technique and test
number) count for their technique, all its tests together. Techniques that are not ATT&CK
ids (Stratus names such as ``aws.persistence.iam-create-user-login-profile``) are counted
in the layer's description, not placed on the matrix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from drillbook.domain.scorecard.models import DetectionResultRow

ATTACK_ID = re.compile(r"^T\d{4}(\.\d{3})?$")
_ATOMIC_TEST = re.compile(r"^(T\d{4}(?:\.\d{3})?)-\d+$")


def attack_id_of(technique: str) -> str | None:
    """The ATT&CK technique id of a result: ``T1082`` for ``T1082`` and ``T1082-3``."""
    upper = technique.strip().upper()
    if ATTACK_ID.match(upper):
        return upper
    atomic = _ATOMIC_TEST.match(upper)
    return atomic.group(1) if atomic else None


VERSIONS = {"attack": "16", "navigator": "5.1", "layer": "4.5"}


def _outcome(row: DetectionResultRow) -> str:
    if row.verdict == "fired":
        if row.expected_severity and row.fired_severity != row.expected_severity:
            return f"fired as {row.fired_severity}, expected {row.expected_severity}"
        return "fired"
    return "no events" if row.verdict == "no_events" else "did not fire"


def _passed(row: DetectionResultRow) -> bool:
    return row.fired and (
        row.expected_severity is None or row.fired_severity == row.expected_severity
    )


def build_layer(
    rows: Sequence[DetectionResultRow], *, name: str = "drillbook coverage"
) -> dict[str, Any]:
    by_technique: dict[str, list[DetectionResultRow]] = {}
    skipped: set[str] = set()
    for row in rows:
        technique = attack_id_of(row.technique)
        if technique is not None:
            by_technique.setdefault(technique, []).append(row)
        else:
            skipped.add(row.technique)
    techniques = []
    for technique in sorted(by_technique):
        history = sorted(by_technique[technique], key=lambda r: (r.checked_at, r.id))
        last = history[-1]
        passed = sum(1 for r in history if _passed(r))
        score = round(100 * passed / len(history))
        tta = (
            f"{last.time_to_alert_seconds:.0f}s" if last.time_to_alert_seconds is not None else "-"
        )
        tests = sorted({r.technique for r in history})
        comment = (
            f"{', '.join(tests)}; "
            f"drill {last.drill_run_id}, last run {last.checked_at.date().isoformat()}: "
            f"{_outcome(last)}; time to alert {tta}"
            + (f"; finding {last.finding_id}" if last.finding_id else "")
        )
        techniques.append(
            {
                "techniqueID": technique,
                "score": score,
                "comment": comment,
                "enabled": True,
                "metadata": [
                    {"name": "drill", "value": last.drill_run_id},
                    {"name": "last_run", "value": last.checked_at.isoformat()},
                    {"name": "outcome", "value": _outcome(last)},
                    {"name": "time_to_alert_seconds", "value": tta},
                    {"name": "finding", "value": last.finding_id or "-"},
                    {"name": "checks", "value": f"{passed}/{len(history)} passed"},
                ],
            }
        )
    description = "Detection pass rate per technique from drillbook drills."
    if skipped:
        description += f" Not on the matrix (not ATT&CK ids): {', '.join(sorted(skipped))}."
    return {
        "name": name,
        "versions": dict(VERSIONS),
        "domain": "enterprise-attack",
        "description": description,
        "sorting": 3,
        "hideDisabled": False,
        "techniques": techniques,
        "gradient": {"colors": ["#ff6666", "#ffe766", "#8ec843"], "minValue": 0, "maxValue": 100},
        "legendItems": [],
        "showTacticRowBackground": False,
        "selectTechniquesAcrossTactics": True,
        "selectSubtechniquesWithParent": False,
    }
