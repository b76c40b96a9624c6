"""Find trackers by type through the ``drillbook.trackers`` entry points, and validate the
``trackers:`` section of ``drillbook.yaml`` with located errors.

A team's own tracker installs as a package declaring
``[project.entry-points."drillbook.trackers"] mine = "pkg.mod:MyTracker"``; the class
implements :class:`~drillbook.trackers.base.Tracker` and names its settings model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx
from pydantic import ValidationError

from drillbook.documents.validation import problems_from
from drillbook.documents.yaml_io import problem_at
from drillbook.errors import ConfigError, Problem
from drillbook.trackers.base import Tracker, TrackerSettings

GROUP = "drillbook.trackers"


def available() -> list[str]:
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def tracker_class(kind: str) -> type[Tracker]:
    found = [ep for ep in entry_points(group=GROUP) if ep.name == kind]
    if not found:
        raise ConfigError(f"no tracker type '{kind}'; installed: {', '.join(available())}")
    loaded = found[0].load()
    if not (isinstance(loaded, type) and issubclass(loaded, Tracker)):
        raise ConfigError(f"entry point '{kind}' is not a Tracker")
    return loaded


def settings_for(name: str, section: Mapping[str, Any]) -> tuple[type[Tracker], TrackerSettings]:
    kind = str(section.get("type", ""))
    cls = tracker_class(kind)
    try:
        return cls, cls.settings_model.model_validate(dict(section))
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"trackers.{name}.{where}: {first['msg']} (run drillbook lint)") from None


def load_tracker(
    name: str,
    section: Mapping[str, Any],
    *,
    client: httpx.Client | None = None,
    sleep: Callable[[float], None] | None = None,
) -> Tracker:
    cls, settings = settings_for(name, section)
    if sleep is None:
        return cls(name, settings, client=client)
    return cls(name, settings, client=client, sleep=sleep)


def section_problems(trackers: Mapping[str, Any], path: Path, document: Any) -> list[Problem]:
    """Every problem in ``trackers:``, each located in the file (lint and every load)."""
    found: list[Problem] = []
    for name, section in trackers.items():
        if not isinstance(section, Mapping):
            found.append(
                problem_at(path, document, ("trackers", name), "must be a mapping", "schema")
            )
            continue
        kind = section.get("type")
        if kind not in available():
            message = (
                f"trackers.{name}.type: unknown tracker type {kind!r}; "
                f"use one of: {', '.join(available())}"
            )
            at = ("trackers", name, "type") if kind is not None else ("trackers", name)
            found.append(problem_at(path, document, at, message, "unknown-tracker"))
            continue
        model = tracker_class(str(kind)).settings_model
        try:
            model.model_validate(dict(section))
        except ValidationError as exc:
            inner = document.get("trackers", {}).get(name) if hasattr(document, "get") else None
            for problem in problems_from(exc, path, inner if inner is not None else document):
                found.append(
                    Problem(
                        problem.location,
                        f"trackers.{name}: {problem.message.removeprefix('document: ')}",
                        problem.code,
                        problem.level,
                    )
                )
    return found
