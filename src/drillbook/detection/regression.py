"""SigmaHQ's ``regression_data`` layout as a first-class rule test.

SigmaHQ keeps, for each rule, a folder with a recorded sample (an EVTX file and the
same events as JSON) and an ``info.yml``::

    id: baeec889-...
    rule_metadata:
        - id: 7c3a5b1d-...            # the rule under test
          title: Potential CVE-2026-33829 Exploitation ...
    regression_tests_info:
        - name: Positive Detection Test
          type: evtx
          match_count: 2
          path: regression_data/rules/windows/.../7c3a5b1d-....evtx

Its CI runs each rule over its own sample only and expects ``match_count`` matching
events (at least one when ``match_count`` is left out; more than declared is a warning
there, and a failure here with ``--exact``). :func:`run_cases` does the same with the
local engine, so a team's own rule repository can keep its samples in this layout and
test them in CI. The ``path`` is relative to the repository root; it is looked up beside
``info.yml`` first, then under each folder above it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drillbook.detection.eventstore import DEFAULT_TABLE, EventStore, Scope, safe_table
from drillbook.detection.sigma_sqlite import CompiledRule
from drillbook.errors import LibraryError, Location, Problem

INFO_FILE = "info.yml"


@dataclass(frozen=True)
class RegressionCase:
    """One expected count: a rule, a sample file and how many events it must match."""

    info: Path
    rule_id: str
    title: str | None
    name: str
    sample: Path
    sample_format: str
    match_count: int | None  # None: at least one match expected

    def status(self, matched: int) -> str:
        """``ok`` (the expected count, or any match when none is given), ``more`` (more
        matches than declared: SigmaHQ's runner passes it with a warning to update the
        count) or ``fewer`` (a regression)."""
        if self.match_count is None:
            return "ok" if matched >= 1 else "fewer"
        if matched == self.match_count:
            return "ok"
        return "more" if matched > self.match_count else "fewer"


@dataclass(frozen=True)
class RegressionOutcome:
    case: RegressionCase
    matched: int | None
    status: str  # ok, more, fewer, no rule, unusable rule

    def passed(self, *, exact: bool = False) -> bool:
        """Whether this outcome passes; ``more`` passes unless counts must be exact, and
        a sample whose rule is not in the rule set is not a failure (SigmaHQ runs a
        sample only through the rule that names it)."""
        if self.status == "more":
            return not exact
        return self.status in ("ok", "no rule")


def is_regression_layout(folder: Path) -> bool:
    """True when ``folder`` holds SigmaHQ-style ``info.yml`` files (and no fixtures.yaml)."""
    return folder.is_dir() and next(folder.rglob(INFO_FILE), None) is not None


def _sample_path(info: Path, written: str, boundary: Path | None = None) -> Path | None:
    """The sample file, looked up beside ``info.yml``, then under each folder above it;
    never outside ``boundary`` (an ``info.yml`` in a pull request must not make CI read
    ``/etc/shadow`` or ``../../secrets`` as events)."""
    relative = Path(written)
    if relative.is_absolute() or ".." in relative.parts:
        return None
    limit = (boundary or info.parent).resolve()
    candidates = [info.parent / relative.name, *(p / relative for p in info.parents)]
    for candidate in candidates:
        if candidate.is_file() and candidate.resolve().is_relative_to(limit):
            return candidate
    return None


def _mapping_list(data: Any, key: str) -> list[dict[str, Any]]:
    value = data.get(key) if isinstance(data, dict) else None
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def read_info(
    info: Path, boundary: Path | None = None
) -> tuple[list[RegressionCase], list[Problem]]:
    """The cases one ``info.yml`` declares, and what is wrong with it; samples are read
    only from inside ``boundary``."""
    from drillbook.documents.yaml_io import load_file, to_plain

    problems: list[Problem] = []
    try:
        data = to_plain(load_file(info))
    except LibraryError as exc:
        return [], list(exc.problems)
    rules = _mapping_list(data, "rule_metadata")
    tests = _mapping_list(data, "regression_tests_info")
    if not rules or not tests:
        message = "needs rule_metadata (id, title) and regression_tests_info (path, match_count)"
        return [], [Problem(Location.of(info), message, "regression")]
    cases = []
    for rule in rules:
        for test in tests:
            count = test.get("match_count")
            written = test.get("path")
            if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
                problems.append(
                    Problem(Location.of(info), "match_count must be a whole number", "regression")
                )
                continue
            if not isinstance(written, str) or not rule.get("id"):
                problems.append(
                    Problem(
                        Location.of(info),
                        "each test needs a path, each rule an id",
                        "regression",
                    )
                )
                continue
            sample = _sample_path(info, written, boundary)
            if sample is None:
                problems.append(
                    Problem(
                        Location.of(info),
                        f"sample {written!r} not found inside {boundary or info.parent}",
                        "missing",
                    )
                )
                continue
            cases.append(
                RegressionCase(
                    info=info,
                    rule_id=str(rule["id"]).lower(),
                    title=rule.get("title"),
                    name=str(test.get("name") or sample.name),
                    sample=sample,
                    sample_format=str(test.get("type") or "auto").lower(),
                    match_count=count,
                )
            )
    return cases, problems


def find_cases(folder: Path) -> list[RegressionCase]:
    """Every case under ``folder``; every bad ``info.yml`` reported at once. Samples
    are read from inside the folder that holds ``folder`` (SigmaHQ writes their paths
    from the repository root, ``regression_data/...``), nowhere else."""
    boundary = folder.resolve().parent
    cases: list[RegressionCase] = []
    problems: list[Problem] = []
    for info in sorted(folder.rglob(INFO_FILE)):
        found, wrong = read_info(info, boundary)
        cases.extend(found)
        problems.extend(wrong)
    if problems:
        raise LibraryError(problems)
    return cases


def _format(case: RegressionCase) -> str:
    return case.sample_format if case.sample_format in ("evtx", "json") else "auto"


def run_case(case: RegressionCase, rule: CompiledRule | None) -> RegressionOutcome:
    """The rule over its own sample only, in a store of its own."""
    from drillbook.telemetry.readers.files import read_events

    if rule is None:
        return RegressionOutcome(case, None, "no rule")
    if not rule.usable:
        return RegressionOutcome(case, None, "unusable rule")
    store = EventStore()
    try:
        table = safe_table(rule.table)
        events = (
            item.event
            for item in read_events(case.sample, _format(case))
            if table in {safe_table(t) for t in item.tables(DEFAULT_TABLE)}
        )
        store.ingest(events, table=table)
        (match,) = store.match([rule], Scope(include_runner=True))
    finally:
        store.close()
    return RegressionOutcome(case, match.count, case.status(match.count))


def run_cases(
    cases: Iterable[RegressionCase], rules: Sequence[CompiledRule]
) -> list[RegressionOutcome]:
    by_id = {r.rule_id.lower(): r for r in rules if r.rule_id}
    return [run_case(case, by_id.get(case.rule_id)) for case in cases]
