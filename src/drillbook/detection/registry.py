"""Find detection backends by name through the ``drillbook.detection`` entry points.

A user's own backend installs as a package declaring
``[project.entry-points."drillbook.detection"] mysiem = "pkg.mod:MyBackend"``; the class
implements :class:`~drillbook.detection.base.DetectionBackend` and a
``from_config(config, *, library_root, transport)`` class method.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx

from drillbook.detection.base import DetectionBackend
from drillbook.detection.config import DetectionConfig
from drillbook.errors import ConfigError

GROUP = "drillbook.detection"


def available() -> list[str]:
    return sorted({ep.name for ep in entry_points(group=GROUP)})


def backend_class(name: str) -> type[DetectionBackend]:
    found = [ep for ep in entry_points(group=GROUP) if ep.name == name]
    if not found:
        raise ConfigError(
            f"no detection backend named '{name}'; installed: {', '.join(available())}"
        )
    try:
        loaded = found[0].load()
    except ImportError as exc:
        raise ConfigError(
            f"detection backend '{name}' cannot load: {exc}; "
            f"install its extra: pip install 'drillbook[{name}]'"
        ) from None
    if not (isinstance(loaded, type) and issubclass(loaded, DetectionBackend)):
        raise ConfigError(f"entry point '{name}' is not a DetectionBackend")
    return loaded


def load_backend(
    name: str | None,
    config: DetectionConfig | None = None,
    *,
    library_root: Path | None = None,
    transport: httpx.BaseTransport | None = None,
) -> DetectionBackend:
    """The backend ``name`` (default: the configured one), built from its config."""
    config = config or DetectionConfig()
    cls = backend_class(name or config.backend)
    factory: Any = getattr(cls, "from_config", None)
    if factory is None:
        return cls()
    backend: DetectionBackend = factory(config, library_root=library_root, transport=transport)
    return backend
