"""Scenario revisions: which content of each scenario the tool has seen, and since when.

Lint records the hash of every scenario it reads when a store is at hand. The
"scenario unchanged while its findings repeat" check compares that first-seen time with
when a repeating finding first appeared (see :func:`drillbook.flows.lint_library.
repeat_findings_check`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import select

from drillbook import clock
from drillbook.documents.yaml_io import to_plain
from drillbook.library.loader import LoadedScenario
from drillbook.storage.engine import Store
from drillbook.storage.models import ScenarioRevision


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def content_hash(loaded: LoadedScenario) -> str:
    """SHA-256 of the scenario's content: keys sorted, comments and layout ignored, so
    reformatting a file is not a change but editing an inject is."""
    plain = to_plain(loaded.document)
    text = json.dumps(plain, sort_keys=True, default=_json_default, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_revisions(store: Store, scenarios: Iterable[LoadedScenario]) -> dict[str, datetime]:
    """Store each scenario's current hash (once) and return, per scenario id, when that
    content was first seen."""
    hashes = {loaded.scenario.id: content_hash(loaded) for loaded in scenarios}
    first_seen: dict[str, datetime] = {}
    if not hashes:
        return first_seen
    now = clock.now()
    with store.session() as session:
        known = session.execute(
            select(ScenarioRevision).where(ScenarioRevision.scenario_id.in_(list(hashes)))
        ).scalars()
        for row in known:
            if hashes.get(row.scenario_id) == row.content_hash:
                first_seen[row.scenario_id] = row.first_seen
        for scenario_id, digest in hashes.items():
            if scenario_id not in first_seen and not store.read_only:  # read-only: only read
                session.add(
                    ScenarioRevision(scenario_id=scenario_id, content_hash=digest, first_seen=now)
                )
                first_seen[scenario_id] = now
    return first_seen
