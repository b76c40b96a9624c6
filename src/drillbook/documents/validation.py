"""Turn pydantic validation errors into located, readable library problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from drillbook.documents.yaml_io import LocPath, problem_at, to_plain
from drillbook.errors import LibraryError, Problem

ModelT = TypeVar("ModelT", bound=BaseModel)


_PATTERN_HINTS = {
    r"^[a-z][a-z0-9_]*$": "use snake_case, e.g. incident_commander",
    r"^[A-Za-z0-9][A-Za-z0-9._-]*$": "use letters, digits, '.', '-' and '_' only, starting "
    "with a letter or digit",
}
_TYPE_NAMES = {
    "string_type": "text",
    "list_type": "a list (lines starting with '- ')",
    "dict_type": "a mapping of keys to values",
    "model_type": "a mapping of keys to values",
    "model_attributes_type": "a mapping of keys to values",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
}


def _kind(value: Any) -> str:
    """How a YAML value looks to the person who wrote it."""
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"'{shown}'"
    return type(value).__name__


def _describe(error: dict[str, Any]) -> tuple[str, bool]:
    """A message for one pydantic error, and whether it should point at the key itself."""
    kind = error["type"]
    loc = list(error["loc"])
    field = ".".join(str(p) for p in loc) or "document"
    where = ".".join(str(p) for p in loc[:-1])
    given = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        name = loc[-1] if loc else "?"
        return f"missing required key '{name}'" + (f" in {where}" if where else ""), False
    if kind == "extra_forbidden" and not loc:
        # a null key (``? x``, ``~: x``): its name looks like a union tag and was dropped
        return "a key with no name (null); remove it or give it a name", False
    if kind == "extra_forbidden":
        return (
            f"unknown key '{loc[-1]}'"
            + (f" in {where}" if where else "")
            + " (check the spelling; `drillbook schema` lists the keys)",
            True,
        )
    if kind in _TYPE_NAMES:
        wanted = error.get("expected") or [_TYPE_NAMES[kind]]
        message = f"expected {' or '.join(wanted)}, found {_kind(given)}"
        number = isinstance(given, int | float) and not isinstance(given, bool)
        if kind == "string_type" and number:  # durations say so themselves (DurationText)
            message += " (quote it to make it text)"
        return f"{field}: {message}", False
    if kind == "enum":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return f"{field}: {_kind(given)} is not allowed; use one of: {expected}", False
    if kind == "string_pattern_mismatch":
        hint = _PATTERN_HINTS.get(str(ctx.get("pattern")), f"match {ctx.get('pattern')}")
        return f"{field}: {_kind(given)} has the wrong form; {hint}", False
    if kind == "too_short" and ctx.get("min_length") is not None:
        unit = "item" if isinstance(given, list) else "character"
        count = ctx["min_length"]
        return f"{field}: needs at least {count} {unit}{'s' * (count != 1)}", False
    if kind.startswith(("date_", "datetime_")):
        return f"{field}: {_kind(given)} is not a date; write YYYY-MM-DD", False
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return f"{field}: {message}", False


def _clean_loc(loc: tuple[Any, ...]) -> LocPath:
    # pydantic adds the tag of a union member ("str", "Criterion", "function-after[...]")
    # to the loc path; field names in our schemas are snake_case, so those are told apart.
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, int):
            out.append(part)
        elif isinstance(part, str) and (
            "[" in part
            or part in {"str", "int", "float", "dict", "list", "bool"}
            or part[:1].isupper()
        ):
            continue
        else:
            out.append(part)
    return tuple(out)


def _superseded(error: dict[str, Any], errors: list[dict[str, Any]]) -> bool:
    """A union's "expected text" is noise when the mapping branch says what is wrong."""
    if error["type"] != "string_type":
        return False
    loc = error["loc"]
    return any(len(other["loc"]) > len(loc) and other["loc"][: len(loc)] == loc for other in errors)


def problems_from(exc: ValidationError, path: str | Path, root: Any) -> list[Problem]:
    problems = []
    errors: list[dict[str, Any]] = []
    for details in exc.errors(include_url=False):
        error: dict[str, Any] = dict(details)
        error["loc"] = _clean_loc(tuple(error["loc"]))
        errors.append(error)
    kept = [error for error in errors if not _superseded(error, errors)]
    # a union (text or a mapping) fails once per member at the same place: say it once
    by_place: dict[LocPath, dict[str, Any]] = {}
    for error in kept:
        if error["type"] not in _TYPE_NAMES:
            continue
        first = by_place.setdefault(error["loc"], error)
        wanted = first.setdefault("expected", [_TYPE_NAMES[first["type"]]])
        if error is not first:
            name = _TYPE_NAMES[error["type"]]
            if name not in wanted:
                wanted.append(name)
            error["merged"] = True
    for error in kept:
        if error.get("merged"):
            continue
        message, at_key = _describe(error)
        problems.append(problem_at(path, root, error["loc"], message, "schema", key=at_key))
    # one message per place is enough: union members repeat themselves
    seen: set[tuple[object, str]] = set()
    unique = []
    for problem in problems:
        mark = (problem.location, problem.message)
        if mark not in seen:
            seen.add(mark)
            unique.append(problem)
    return unique


def validate(model: type[ModelT], root: Any, path: str | Path) -> ModelT:
    """Validate the YAML document ``root`` against ``model``; raise located problems."""
    try:
        return model.model_validate(to_plain(root))
    except ValidationError as exc:
        raise LibraryError(problems_from(exc, path, root)) from None
