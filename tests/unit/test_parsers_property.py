"""Fuzz the library's parsers: they accept or refuse, and refuse only with LibraryError
(or ValueError where that is the documented contract), never anything else."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drillbook.documents.durations import format_duration, parse_duration
from drillbook.documents.yaml_io import dump_text, load_text, to_plain
from drillbook.domain.scenario.criteria import parse_criterion
from drillbook.errors import LibraryError
from drillbook.flows.lint_library import lint_library
from drillbook.library.loader import load_scenario_file

FAST = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
HEAVY = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

_yaml_tokens = st.sampled_from(
    [
        "a",
        "b:",
        ": ",
        "- ",
        "\n",
        "  ",
        "\t",
        "[",
        "]",
        "{",
        "}",
        ",",
        "&x ",
        "*x",
        "!!str ",
        "!!python/object ",
        "'",
        '"',
        "|",
        ">",
        "#",
        "---",
        "...",
        "<<: ",
        "? ",
        "%YAML 1.2",
        "2026-02-30",
        "15m",
        "~",
        "null",
        "yes",
        "0x1F",
        "\x07",
        "é",
        "\ufeff",
    ]
)
yamlish = st.lists(_yaml_tokens, max_size=40).map("".join)


def _refusal(action: Callable[[], object]) -> LibraryError | None:
    """The LibraryError ``action`` raised, or None; any other exception fails the test."""
    try:
        action()
    except LibraryError as exc:
        return exc
    return None


@FAST
@given(text=st.one_of(st.text(max_size=300), yamlish))
def test_load_text_only_raises_library_errors(text: str) -> None:
    refused = _refusal(lambda: load_text(text, "fuzz.yaml"))
    if refused is not None:
        assert refused.problems
        assert all(p.location.path == "fuzz.yaml" for p in refused.problems)
        assert all(p.location.line >= 1 for p in refused.problems)


@FAST
@given(text=st.text(max_size=40))
def test_parse_duration_accepts_or_raises_value_error(text: str) -> None:
    message = ""
    try:
        parsed = parse_duration(text)
    except ValueError as exc:
        message = str(exc)
    if message:
        assert "is not a duration" in message
    else:
        assert parsed >= timedelta(0)


@FAST
@given(number=st.integers(min_value=0), unit=st.sampled_from("wdhmsWDHMS"))
def test_parse_duration_of_any_size_raises_value_error_at_worst(number: int, unit: str) -> None:
    # a huge number once overflowed timedelta: a traceback instead of a located error
    message = ""
    try:
        assert parse_duration(f"{number}{unit}") >= timedelta(0)
    except ValueError as exc:
        message = str(exc)
    assert not message or "is not a duration" in message


@FAST
@given(seconds=st.integers(min_value=0, max_value=10 * 86400))
def test_format_then_parse_duration_round_trips(seconds: int) -> None:
    assert parse_duration(format_duration(timedelta(seconds=seconds))) == timedelta(seconds=seconds)


@FAST
@given(text=st.text(max_size=120))
def test_parse_criterion_never_fails(text: str) -> None:
    criterion = parse_criterion(text)
    assert criterion.text == text.strip()
    if criterion.by is not None:
        assert criterion.deadline_minutes is not None
        assert criterion.deadline_minutes >= 0


@FAST
@given(digits=st.integers(min_value=1, max_value=400), lead=st.sampled_from(["within", "by t+"]))
def test_parse_criterion_never_fails_on_huge_numbers(digits: int, lead: str) -> None:
    # a 400-digit deadline once overflowed (a traceback from lint instead of no deadline)
    criterion = parse_criterion(f"Scope confirmed {lead} {'9' * digits} minutes")
    assert criterion.by is None or criterion.deadline_minutes == int("9" * digits)


@FAST
@given(
    number=st.integers(min_value=0, max_value=600),
    unit=st.sampled_from(["minutes", "min", "m", "hours", "h"]),
    lead=st.sampled_from(["within", "in under", "inside"]),
)
def test_parse_criterion_reads_every_within_form(number: int, unit: str, lead: str) -> None:
    criterion = parse_criterion(f"Scope confirmed {lead} {number} {unit}")
    factor = 60 if unit.startswith("h") else 1
    assert criterion.deadline_minutes == number * factor


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 200),
    st.text(max_size=12),
    st.sampled_from(
        ["15m", "0m", "90m", "1h", "zz", "incident_commander", "detection", "2026-01-01"]
    ),
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "time",
                    "description",
                    "role",
                    "name",
                    "start",
                    "end",
                    "phase",
                    "question",
                    "text",
                    "by",
                    "evidence",
                    "event",
                    "audience",
                    "owner_role",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        ),
    ),
    max_leaves=12,
)
scenario_docs = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.just("fuzz"), scalars),
        "title": scalars,
        "duration": st.one_of(st.sampled_from(["60m", "0m", "5m"]), scalars),
        "participants": st.one_of(st.just([{"role": "incident_commander"}]), values),
        "initial_state": scalars,
        "injects": st.one_of(st.just([{"time": "0m", "description": "x"}]), values),
        "success_criteria": values,
        "phases": values,
        "decision_points": values,
        "escalations": values,
        "last_reviewed": scalars,
        "tags": values,
    },
)


@HEAVY
@given(doc=scenario_docs)
def test_arbitrary_scenario_documents_only_raise_library_errors(
    tmp_path_factory: Any, doc: dict[str, Any]
) -> None:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    path = folder / "s.yaml"
    path.write_text(dump_text(doc), encoding="utf-8")
    refused = _refusal(lambda: load_scenario_file(path))
    if refused is not None:
        assert all(p.location.line >= 1 for p in refused.problems), refused
    # lint never raises for a problem in a file, whatever the file holds
    root = folder / "lib"
    (root / "scenarios").mkdir(parents=True)
    (root / "drillbook.yaml").write_text("organisation: F\n", encoding="utf-8")
    (root / "scenarios" / "s.yaml").write_text(dump_text(doc), encoding="utf-8")
    report = lint_library(root, include_builtin=False, today=date(2026, 11, 21))
    assert all(p.location.path for p in report.problems)


@FAST
@given(
    doc=st.dictionaries(
        st.text(min_size=1, max_size=8).filter(str.isidentifier),
        st.one_of(scalars, st.lists(scalars, max_size=3)),
        max_size=6,
    )
)
def test_dump_then_load_round_trips(doc: dict[str, Any]) -> None:
    assert to_plain(load_text(dump_text(doc))) == to_plain(doc)
