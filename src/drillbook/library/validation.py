"""Turn pydantic validation errors into located, readable library problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from drillbook.errors import LibraryError, Problem
from drillbook.library.yaml_io import LocPath, problem_at, to_plain

ModelT = TypeVar("ModelT", bound=BaseModel)


def _describe(error: dict[str, Any]) -> tuple[str, bool]:
    """A message for one pydantic error, and whether it should point at the key itself."""
    kind = error["type"]
    loc = [p for p in error["loc"] if not isinstance(p, str) or not p.startswith("function-")]
    field = ".".join(str(p) for p in loc) or "document"
    if kind == "missing":
        return f"missing required key '{loc[-1]}'" if loc else "missing required key", False
    if kind == "extra_forbidden":
        return (
            f"unknown key '{loc[-1]}' (check the spelling; see `drillbook schema` for the keys)",
            True,
        )
    message = str(error.get("msg", "invalid value"))
    message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return f"{field}: {message}", False


def _clean_loc(loc: tuple[Any, ...]) -> LocPath:
    # pydantic adds the tag of a union member ("str", "function-after[...]") to the loc path.
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, int):
            out.append(part)
        elif isinstance(part, str) and ("[" in part or part in {"str", "int", "float", "dict"}):
            continue
        else:
            out.append(part)
    return tuple(out)


def problems_from(exc: ValidationError, path: str | Path, root: Any) -> list[Problem]:
    problems = []
    for error in exc.errors(include_url=False):
        error = dict(error)
        error["loc"] = _clean_loc(tuple(error["loc"]))
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
