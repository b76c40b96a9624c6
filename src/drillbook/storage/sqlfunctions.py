"""One-argument SQL functions spelled per database, from templates.

SQLite and PostgreSQL spell dates, string aggregation and JSON differently. A construct
that takes one column is a :class:`~sqlalchemy.sql.expression.FunctionElement`
subclass (its docstring says what it gives) plus one template per database, in which
``{v}`` stands for the compiled argument; :func:`spell` registers them with SQLAlchemy,
so a query is written once for both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement


def _render(template: str) -> Callable[..., str]:
    def compile_one(element: FunctionElement[Any], compiler: Any, **kw: Any) -> str:
        (value,) = list(element.clauses)
        return template.format(v=compiler.process(value, **kw))

    return compile_one


def spell(element: type[FunctionElement[Any]], *, default: str, sqlite: str | None = None) -> None:
    """Compile ``element(column)`` as ``default`` (PostgreSQL and others), or as
    ``sqlite`` on SQLite when given; ``{v}`` is the column (write ``{{`` for a brace)."""
    if sqlite is not None:
        compiles(element, "sqlite")(_render(sqlite))
    compiles(element)(_render(default))
