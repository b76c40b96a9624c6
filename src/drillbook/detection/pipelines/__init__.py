"""pySigma processing pipelines for the SIEM backends: queries in the SIEM's own fields.

A Sigma rule names Sysmon-style fields (``Image``, ``CommandLine``); Elastic stores ECS
(``process.executable``), Splunk's Windows add-on and CIM their own names, Sentinel its
ASIM tables. Each backend converts through a list of pipelines, set per backend in
``drillbook.yaml`` (``detection.elastic.pipelines: [ecs_windows, my-fields.yml]``): a
name from an installed pySigma package (``ecs_windows``, ``splunk_windows``,
``splunk_cim``, ``sentinel_asim``, ``loki_promtail_sysmon``, ``sysmon``, ``windows``,
...), drillbook's own ``drillbook_ecs_linux``, or a pySigma pipeline YAML file (read
relative to the library). Without the setting a backend uses :data:`DEFAULTS`; ``[]``
converts with the rule's own field names.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from drillbook.errors import ConfigError

DEFAULTS: dict[str, tuple[str, ...]] = {
    "elastic": ("ecs_windows", "drillbook_ecs_linux"),
    "splunk": ("splunk_windows",),
    "sentinel": ("sentinel_asim",),
    "loki": (),
}
# Installed pySigma packages that publish a ``pipelines`` table by name.
PIPELINE_MODULES = (
    "sigma.pipelines.elasticsearch",
    "sigma.pipelines.splunk",
    "sigma.pipelines.sentinelasim",
    "sigma.pipelines.microsoftxdr",
    "sigma.pipelines.azuremonitor",
    "sigma.pipelines.loki",
    "sigma.pipelines.windows",
    "sigma.pipelines.sysmon",
)
OWN = {"drillbook_ecs_linux": Path(__file__).parent / "ecs_linux.yml"}


def installed() -> dict[str, Any]:
    """Pipeline name -> factory, from every installed package that publishes one."""
    found: dict[str, Any] = {}
    for module in PIPELINE_MODULES:
        try:
            table = getattr(importlib.import_module(module), "pipelines", {})
        except ImportError:
            continue
        found.update(table)
    return found


def _from_file(system: str, path: Path) -> Any:
    from sigma.exceptions import SigmaError
    from sigma.processing.pipeline import ProcessingPipeline

    try:
        return ProcessingPipeline.from_yaml(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            f"{system}: pipeline file {path} cannot be read ({exc.strerror})"
        ) from None
    except (SigmaError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ConfigError(
            f"{system}: pipeline file {path} is not a pySigma pipeline: {exc}"
        ) from None


def build(system: str, names: Sequence[str] | None, base: Path | None = None) -> Any:
    """The pipelines ``names`` (default: :data:`DEFAULTS`) as one pySigma pipeline, or
    None for none; an unknown name or a bad file is one :class:`ConfigError`."""
    chosen = DEFAULTS.get(system, ()) if names is None else tuple(names)
    if not chosen:
        return None
    table: dict[str, Any] | None = None
    combined: Any = None
    for name in chosen:
        if name in OWN:
            pipeline = _from_file(system, OWN[name])
        elif name.endswith((".yml", ".yaml")):
            path = Path(name)
            if not path.is_absolute() and base is not None:
                path = base / path
            pipeline = _from_file(system, path)
        else:
            table = installed() if table is None else table
            factory = table.get(name)
            if factory is None:
                known = ", ".join(sorted([*table, *OWN]))
                raise ConfigError(
                    f"{system}: no pySigma pipeline named {name!r}; installed: {known}"
                )
            pipeline = factory()
        combined = pipeline if combined is None else combined + pipeline
    return combined
