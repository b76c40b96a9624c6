"""Plain option values without pydantic: a tenth of a second off every command.

Typer coerces each option's value through a pydantic ``TypeAdapter`` built for it, even
a ``str`` that arrives as a ``str`` or a flag that arrives as a ``bool``; importing
pydantic and building those adapters cost every ``drillbook`` command about 0.1 s before
it did any work (a warm ``detect run`` is under a second). Most of drillbook's options
are ``str``, ``bool`` or ``Path`` with no constraint, and their values need no
conversion but ``str`` -> ``Path``. :func:`install` gives those a direct coercion and
leaves every other option (numbers, choices, parsers, files, constrained paths) and
every unexpected value to typer's own.

The hook is typer's internal ``build_runtime_param``; when a typer release no longer has
it, :func:`install` leaves typer as it is (slower, never different).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_PLAIN = (str, bool, Path)


def _wrap(original: Any, runtime_param: type[Any]) -> Any:
    from dataclasses import dataclass, field

    from typer._param_types import coerce_cli_path

    @dataclass(frozen=True)
    class PlainRuntimeParam(runtime_param):  # type: ignore[misc]
        """A ``str``, ``bool`` or ``Path`` option coerced directly; anything else that
        arrives goes through the runtime typer would have built."""

        descriptor: Any = None
        fallback: list[Any] = field(default_factory=list)

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            kind = self.annotation
            if kind is str and type(value) is str:
                return value
            if kind is bool and type(value) is bool:
                return value
            if kind is Path and isinstance(value, str | Path):
                return coerce_cli_path(
                    Path(value), self.parameter_info, path_type=Path, param=param, ctx=ctx
                )
            if not self.fallback:
                self.fallback.append(original(self.descriptor))
            return self.fallback[0]._coerce_value(value, param=param, ctx=ctx)

    def build(descriptor: Any) -> Any:
        info = descriptor.parameter_info
        annotation = descriptor.annotation
        plain = (
            annotation in _PLAIN
            and descriptor.file_annotation is None
            and getattr(info, "parser", None) is None
            and (annotation is not Path or getattr(info, "path_type", None) in (None, Path))
        )
        if not plain:
            return original(descriptor)
        return PlainRuntimeParam(parameter_info=info, annotation=annotation, descriptor=descriptor)

    return build


def install() -> bool:
    """Route plain options around pydantic; False (typer unchanged) when this typer has
    no such hook."""
    try:
        from typer import _coercion, core
        from typer._param_types import coerce_cli_path  # noqa: F401
    except ImportError:
        return False
    original = getattr(core, "build_runtime_param", None)
    runtime_param = getattr(_coercion, "RuntimeParam", None)
    if original is None or runtime_param is None or getattr(original, "drillbook", False):
        return original is not None and getattr(original, "drillbook", False)
    build = _wrap(original, runtime_param)
    build.drillbook = True
    setattr(core, "build_runtime_param", build)  # noqa: B010 - typer's internal name
    return True
