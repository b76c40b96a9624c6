"""Twenty-odd kinds of broken scenario file: each gives one located, readable error
(``path:line:column: message``) and exit status 1 from the CLI, never a traceback."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from drillbook.cli.main import app
from drillbook.documents.durations import DurationText
from drillbook.documents.validation import validate
from drillbook.documents.yaml_events import MAX_DEPTH
from drillbook.documents.yaml_io import MAX_ALIASES, load_file, load_text
from drillbook.errors import LibraryError
from drillbook.library.loader import load_scenario_file

BASE = """\
id: broken-example
title: A scenario
duration: 60m
participants:
  - role: incident_commander
    typical_attendee: sre
initial_state: |
  Something happened.
injects:
  - time: 0m
    description: Alert fires.
  - time: 15m
    description: More news.
success_criteria:
  - Incident commander identified within 5 minutes
"""


@dataclass(frozen=True)
class Broken:
    edit: Callable[[str], str]
    line: int
    column: int
    message: str
    code: str = "schema"
    # False where the words after "invalid YAML: " come from libyaml or Python itself: those
    # change between releases, so only drillbook's part (location, code, prefix) is pinned.
    own_words: bool = True


def _replace(old: str, new: str) -> Callable[[str], str]:
    def edit(text: str) -> str:
        assert old in text
        return text.replace(old, new, 1)

    return edit


def _append(extra: str) -> Callable[[str], str]:
    return lambda text: text + extra


BROKEN: dict[str, Broken] = {
    "unknown-key": Broken(
        _append("titel: typo\n"),
        16,
        1,
        "unknown key 'titel' (check the spelling; `drillbook schema` lists the keys)",
    ),
    "missing-key": Broken(_replace("id: broken-example\n", ""), 1, 1, "missing required key 'id'"),
    "missing-nested-key": Broken(
        _replace("    description: More news.\n", ""),
        12,
        5,
        "missing required key 'description' in injects.1",
    ),
    "duration-as-list": Broken(
        _replace("duration: 60m", "duration: [60m]"), 3, 11, "duration: expected text, found a list"
    ),
    "duration-without-unit-word": Broken(
        _replace("duration: 60m", "duration: sixty minutes"),
        3,
        11,
        "duration: 'sixty minutes' is not a duration; write a number with a unit, "
        "e.g. 15m, 1h30m, 45s, 2d",
    ),
    "zero-duration": Broken(
        _replace("duration: 60m", "duration: 0m"),
        3,
        11,
        "duration: duration must be longer than zero",
    ),
    "inject-time-bare-number": Broken(
        _replace("time: 15m", "time: 15"),
        12,
        11,
        "injects.1.time: expected text, found the number 15 (durations need a unit, e.g. 15m)",
    ),
    "role-not-snake-case": Broken(
        _replace("role: incident_commander", "role: Incident Commander"),
        5,
        11,
        "participants.0.role: 'Incident Commander' has the wrong form; use snake_case, "
        "e.g. incident_commander",
    ),
    "no-participants": Broken(
        _replace(
            "participants:\n  - role: incident_commander\n    typical_attendee: sre\n",
            "participants: []\n",
        ),
        4,
        15,
        "participants: needs at least 1 item",
    ),
    "unknown-category": Broken(
        _append("category: alien_invasion\n"),
        16,
        11,
        "category: 'alien_invasion' is not allowed; use one of: wrong_team_data_exposure",
    ),
    "bad-date": Broken(
        _append("last_reviewed: last tuesday\n"),
        16,
        16,
        "last_reviewed: 'last tuesday' is not a date; write YYYY-MM-DD",
    ),
    "impossible-date": Broken(
        _append("last_reviewed: 2026-02-30\n"),
        16,
        16,
        "'2026-02-30' is not a valid date: day is out of range for month",
        "yaml",
        own_words=False,
    ),
    "unknown-criterion-key": Broken(
        _append("  - text: Scope known\n    deadline: 5m\n"),
        17,
        5,
        "unknown key 'deadline' in success_criteria.1",
    ),
    "unknown-phase": Broken(
        _replace(
            "    description: Alert fires.\n", "    description: Alert fires.\n    phase: triage\n"
        ),
        12,
        12,
        "injects.0.phase: 'triage' is not allowed; use one of: detection, containment, "
        "communication, post_incident_review",
    ),
    "top-level-list": Broken(
        lambda _: "- just\n- a list\n",
        1,
        1,
        "a scenario must be a YAML mapping of keys to values, but the file is a list",
        "not-a-mapping",
    ),
    "empty-file": Broken(
        lambda _: "",
        1,
        1,
        "a scenario must be a YAML mapping of keys to values, but the file is empty",
        "not-a-mapping",
    ),
    "tab-indentation": Broken(
        _replace("  - time: 0m", "\t- time: 0m"),
        10,
        1,
        "invalid YAML: a tab character; YAML indents with spaces only",
        "yaml",
    ),
    "duplicate-key": Broken(
        _append("title: again\n"),
        16,
        1,
        "invalid YAML: duplicate key 'title' (first at line 2); each key may appear once",
        "yaml",
    ),
    "bad-id": Broken(
        _replace("id: broken-example", 'id: "bad id!"'),
        1,
        5,
        "id: 'bad id!' has the wrong form; use letters, digits, '.', '-' and '_' only",
    ),
    "text-given-a-list": Broken(
        _replace("initial_state: |\n  Something happened.\n", "initial_state:\n  - a\n"),
        8,
        3,
        "initial_state: expected text, found a list",
    ),
    "injects-as-mapping": Broken(
        _replace(
            "injects:\n  - time: 0m\n    description: Alert fires.\n  - time: 15m\n"
            "    description: More news.\n",
            "injects:\n  first:\n    time: 0m\n",
        ),
        10,
        3,
        "injects: expected a list (lines starting with '- '), found a mapping",
    ),
    "python-object-tag": Broken(
        _replace("title: A scenario", 'title: !!python/object/apply:os.system ["ls"]'),
        2,
        8,
        "YAML tag !!python/object/apply:os.system is not allowed; write plain values",
        "yaml-tag",
    ),
    "unclosed-quote": Broken(
        _replace("title: A scenario", 'title: "A scenario'),
        16,
        1,
        "invalid YAML: found unexpected end of stream while scanning a quoted scalar that "
        "starts at line 2, column 8",
        "yaml",
        own_words=False,
    ),
    "audience-not-a-list": Broken(
        _replace(
            "    description: Alert fires.\n",
            "    description: Alert fires.\n    audience: incident_commander\n",
        ),
        12,
        15,
        "injects.0.audience: expected a list (lines starting with '- '), "
        "found 'incident_commander'",
    ),
    "bad-indentation": Broken(
        _replace("title: A scenario", "title: A scenario\n  oops: 1"),
        3,
        7,
        "invalid YAML: mapping values are not allowed in this context",
        "yaml",
        own_words=False,
    ),
    "second-document": Broken(
        _append("---\nid: another\n"),
        1,
        1,
        "file holds more than one YAML document (---); keep one per file",
        "multiple-documents",
    ),
}


BROKEN["criterion-a-number"] = Broken(
    _append("  - 5\n"),
    16,
    5,
    "success_criteria.1: expected text or a mapping of keys to values, found the number 5 "
    "(quote it to make it text)",
)


def test_there_are_at_least_twenty_kinds() -> None:
    assert len(BROKEN) >= 20


def _expected_start(path: Path, case: Broken) -> str:
    """What the first problem must start with: the whole message where drillbook wrote it,
    only drillbook's own prefix where the rest is a dependency's wording."""
    where = f"{path}:{case.line}:{case.column}: "
    if case.own_words:
        return where + case.message
    return where + case.message.split(": ", 1)[0] + ":"


def _write(folder: Path, name: str) -> tuple[Path, str]:
    case = BROKEN[name]
    path = folder / f"{name}.yaml"
    text = case.edit(BASE)
    path.write_text(text, encoding="utf-8")
    return path, text


def test_the_base_file_is_valid(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(BASE, encoding="utf-8")
    assert load_scenario_file(path).scenario.id == "broken-example"


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_file_gives_a_located_readable_error(tmp_path: Path, name: str) -> None:
    path, _ = _write(tmp_path, name)
    case = BROKEN[name]
    with pytest.raises(LibraryError) as caught:
        load_scenario_file(path)
    first = caught.value.problems[0]
    assert str(first).startswith(_expected_start(path, case))
    assert first.code == case.code
    assert all(p.location.line > 0 for p in caught.value.problems)


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_file_fails_lint_with_exit_1_and_no_traceback(
    tmp_path: Path, runner: CliRunner, name: str
) -> None:
    library = tmp_path / "lib"
    (library / "scenarios").mkdir(parents=True)
    (library / "drillbook.yaml").write_text("organisation: Test\n", encoding="utf-8")
    path, _ = _write(library / "scenarios", name)
    case = BROKEN[name]
    result = runner.invoke(app, ["lint", str(library), "--no-builtin"])
    assert result.exit_code == 1, result.output
    assert _expected_start(path, case) in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize("name", ["unknown-key", "tab-indentation"])
def test_broken_library_file_stops_other_commands_cleanly(
    tmp_path: Path, runner: CliRunner, name: str
) -> None:
    library = tmp_path / "lib"
    (library / "scenarios").mkdir(parents=True)
    (library / "drillbook.yaml").write_text("organisation: Test\n", encoding="utf-8")
    path, _ = _write(library / "scenarios", name)
    result = runner.invoke(app, ["--library", str(library), "scenario", "list"])
    assert result.exit_code == 1
    assert f"{path}:{BROKEN[name].line}:{BROKEN[name].column}: " in result.output
    assert "Traceback" not in result.output


# -- hostile documents ---------------------------------------------------------------------


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    started = time.monotonic()
    with pytest.raises(LibraryError) as caught:
        load_text("\n".join(lines) + "\n", "laughs.yaml")
    assert time.monotonic() - started < 10
    assert caught.value.problems[0].code in {"too-many-aliases", "too-large"}
    assert f"more than {MAX_ALIASES} YAML aliases" in str(caught.value) or (
        "expands to more than" in str(caught.value)
    )


def test_deep_nesting_is_refused_without_crashing() -> None:
    """A flow collection 100,000 deep: libyaml or drillbook refuses it (which one depends on
    the PyYAML release), always as one located ``yaml`` problem, never a RecursionError."""
    with pytest.raises(LibraryError) as caught:
        load_text("[" * 100_000 + "]" * 100_000, "deep.yaml")
    (problem,) = caught.value.problems
    assert problem.code == "yaml"
    assert problem.location.path == "deep.yaml"
    assert problem.location.line == 1


def test_drillbook_own_nesting_limit_is_located() -> None:
    """Block nesting past drillbook's limit (far below libyaml's) is drillbook's own error."""
    text = "a:\n" + "".join("  " * i + f"b{i}:\n" for i in range(1, 80))
    with pytest.raises(LibraryError) as caught:
        load_text(text, "deep.yaml")
    (problem,) = caught.value.problems
    assert problem.code == "yaml"
    assert problem.message == f"YAML nested more than {MAX_DEPTH} levels deep"
    assert problem.location.line > 60


def test_deep_nesting_fails_lint_with_exit_1(tmp_path: Path, runner: CliRunner) -> None:
    library = tmp_path / "lib"
    (library / "scenarios").mkdir(parents=True)
    (library / "drillbook.yaml").write_text("organisation: Test\n", encoding="utf-8")
    path = library / "scenarios" / "deep.yaml"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    result = runner.invoke(app, ["lint", str(library), "--no-builtin"])
    assert result.exit_code == 1
    assert f"{path}:1:" in result.output
    assert "[yaml]" in result.output
    assert "Traceback" not in result.output


def test_oversized_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * (3 * 1024 * 1024) + "\n", encoding="utf-8")
    with pytest.raises(LibraryError, match="larger than"):
        load_file(path)


def test_non_utf8_file_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"id: x\ntitle: caf\xe9\n")
    with pytest.raises(LibraryError) as caught:
        load_file(path)
    assert str(caught.value).startswith(f"{path}:2:1: file is not UTF-8 text")


def test_control_character_is_located() -> None:
    with pytest.raises(LibraryError) as caught:
        load_text("id: x\ntitle: a\x07b\n", "ctl.yaml")
    assert str(caught.value).startswith(
        "ctl.yaml:2:9: invalid YAML: control character U+0007 is not allowed"
    )


def test_merge_keys_and_aliases_still_work() -> None:
    data = load_text("base: &b {a: 1}\nother:\n  <<: *b\n  c: 3\n")
    assert dict(data["other"]) == {"c": 3, "a": 1}


def test_yaml_1_2_scalars() -> None:
    data = load_text("a: yes\nb: true\nc: 010\nd: 1:30\ne: 2026-05-01\nf: ~\ng: '15'\n")
    assert data["a"] == "yes"
    assert data["b"] is True
    assert data["c"] == 10
    assert data["d"] == "1:30"
    assert str(data["e"]) == "2026-05-01"
    assert data["f"] is None
    assert data["g"] == "15"


def test_every_duration_field_says_a_bare_number_needs_a_unit(tmp_path: Path) -> None:
    # the hint once came from a list of field names that missed drill and detection fields
    class Polling(BaseModel):
        poll_interval: DurationText
        label: str

    path = tmp_path / "polling.yaml"
    path.write_text("poll_interval: 10\nlabel: 7\n", encoding="utf-8")
    with pytest.raises(LibraryError) as caught:
        validate(Polling, load_file(path), path)
    assert [p.message for p in caught.value.problems] == [
        "poll_interval: expected text, found the number 10 (durations need a unit, e.g. 15m)",
        "label: expected text, found the number 7 (quote it to make it text)",
    ]
