"""A finding's capability: explicit field, else the documented vocabulary (with the
synonyms people write), else the scenario's tags or category; `finding rank` says which."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.clock import FakeClock
from drillbook.config import database_url
from drillbook.domain.exercise import service as exercises
from drillbook.domain.finding.classify import CAPABILITY_WORDS, match_capability
from drillbook.domain.finding.enums import Capability
from drillbook.domain.finding.service import create_finding
from drillbook.domain.scenario.models import Scenario
from drillbook.library.loader import load_scenario_file
from drillbook.storage.engine import Store
from tests.helpers import ROOT, SEED

REALISTIC = [
    ("Open egress from the build runners let the payload call home", "access_isolation"),
    ("The dependency bot auto-merges minor updates with nobody reading them", "change_review"),
    ("We could not say which records left: there is no data inventory", "data_scoping"),
    ("Shared admin login with broad access across every team", "access_isolation"),
    ("Secrets were baked into the container image", "credential_revocation"),
    ("Nobody answered the escalation contact at 2am", "on_call"),
]


@pytest.mark.parametrize(("gap", "capability"), REALISTIC)
def test_realistic_gaps_are_classified(gap: str, capability: str) -> None:
    found = match_capability(gap)
    assert found is not None, gap
    assert found.capability == capability
    assert found.term in gap.lower()


def test_every_capability_has_vocabulary_and_is_documented() -> None:
    listed = {capability for capability, _ in CAPABILITY_WORDS}
    assert listed == set(Capability) - {Capability.OTHER}
    docs = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
    for capability in listed:
        assert f"| {capability.value} |" in docs, capability


def _tagged(scenario: Scenario, tags: list[str]) -> Scenario:
    document = scenario.model_dump(mode="json", exclude_none=True)
    document["tags"] = tags
    return Scenario.model_validate(document)


def test_rank_shows_where_each_capability_came_from(
    tmp_path: Path, fake_clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = tmp_path / "lib"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(library)]).exit_code == 0
    shutil.copy(SEED / "scenarios" / "data-exfil-via-mcp.yaml", library / "scenarios")
    monkeypatch.chdir(library)
    seed = load_scenario_file(SEED / "scenarios" / "data-exfil-via-mcp.yaml").scenario
    store = Store(database_url(library))
    with store.session() as session:
        exercise = exercises.create_exercise(session, scenario=_tagged(seed, ["T1567"]))
        create_finding(
            session, description="Took far too long", severity="high", source="exercise",
            exercise_id=exercise.id,
        )  # fmt: skip
        create_finding(
            session, description="Open egress from the runners", severity="high",
            source="exercise", exercise_id=exercise.id,
        )  # fmt: skip
        create_finding(
            session, description="Took far too long again", severity="low", source="exercise",
            capability="runbook",
        )  # fmt: skip
    store.close()
    result = runner.invoke(app, ["finding", "rank", "--json"])
    assert result.exit_code == 0, result.output
    found = {r["id"]: (r["capability"], r["capability_from"]) for r in json.loads(result.stdout)}
    assert found == {
        "F-001": ("data_scoping", "scenario: tag T1567"),
        "F-002": ("access_isolation", "vocabulary: egress"),
        "F-003": ("runbook", "explicit"),
    }
    table = runner.invoke(app, ["finding", "rank"], env={"COLUMNS": "250"})
    assert "access_isolation (vocabulary: egress)" in table.stdout


def test_lowered_patterns_find_what_the_case_blind_ones_find() -> None:
    """`scenario_capabilities` matches ASCII text lowered with patterns that are not
    case-blind (three times faster): the same capabilities, on every pattern's own words
    in mixed case, on the built-in scenarios, and on text outside ASCII (which keeps the
    case-blind patterns)."""
    import re
    import string

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from drillbook.domain.finding.classify import _LOWERED_WORDS, _scenario_text
    from drillbook.library.loader import load_builtin

    pieces = [
        word
        for _, pattern in CAPABILITY_WORDS
        for word in re.findall(r"[a-z][a-z -]{2,}", pattern.pattern)
    ]

    def same(text: str) -> None:
        assert text.isascii()
        blind = [bool(pattern.search(text)) for _, pattern in CAPABILITY_WORDS]
        lowered = [bool(pattern.search(text.lower())) for _, pattern in _LOWERED_WORDS]
        assert lowered == blind, text

    for loaded in load_builtin().values():
        same(_scenario_text(loaded.scenario))

    cased = st.sampled_from(pieces).flatmap(
        lambda word: st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
            lambda upper: "".join(c.upper() if u else c for c, u in zip(word, upper, strict=True))
        )
    )
    noise = st.text(alphabet=string.ascii_letters + string.digits + " -_.,\n", max_size=6)

    @settings(max_examples=300, deadline=None)
    @given(st.lists(st.one_of(cased, noise), max_size=8))
    def check(parts: list[str]) -> None:
        same(" ".join(parts))

    check()
