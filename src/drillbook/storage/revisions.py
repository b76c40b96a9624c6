"""The migrations this drillbook ships, read from their files without importing Alembic.

Every command opens the store, and opening it compares the applied migrations with the
shipped ones. Alembic's ``ScriptDirectory`` answers that, but importing Alembic (and Mako,
which installs Pygments' highlighting) took 0.3 s of every command on a slow machine,
longer than most commands' own work; it is needed only to upgrade. The graph is small and
each migration file declares it in plain assignments (``revision``, ``down_revision``,
``depends_on``), so they are read here with :mod:`ast`, evaluated only as literals and
names of other module-level literals. A test compares the result with Alembic's own view
of the same folder (revisions, heads, and every revision's ancestors and dependencies), so
a migration written in a way this does not read fails the suite, not a user.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

VERSIONS = Path(__file__).with_name("migrations") / "versions"
_DECLARED = ("revision", "down_revision", "depends_on")


class UnreadableMigration(ValueError):
    """A migration file whose graph fields are not plain literals."""


@dataclass(frozen=True)
class Revision:
    revision: str
    down: tuple[str, ...]  # the revisions it follows (``down_revision``)
    depends_on: tuple[str, ...]


def _literal(
    node: ast.expr, names: dict[str, ast.expr], path: Path, following: frozenset[str] = frozenset()
) -> object:
    """The value of ``node``: a text, None, a tuple or list of them, or the name of another
    module-level assignment of such a value (``following``: the names on the way, so a
    circle of names is refused, not followed forever)."""
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, str)):
        return node.value
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(_literal(item, names, path, following) for item in node.elts)
    if isinstance(node, ast.Name) and node.id in names and node.id not in following:
        return _literal(names[node.id], names, path, following | {node.id})
    raise UnreadableMigration(f"{path.name}: line {node.lineno}: not a literal revision")


def _names(value: object, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, tuple) and all(isinstance(v, str) for v in value):
        return tuple(str(v) for v in value)
    raise UnreadableMigration(f"{path.name}: a revision list holds something else")


def read_revision(path: Path) -> Revision:
    """The graph fields of one migration file."""
    names: dict[str, ast.expr] = {}
    for node in ast.parse(path.read_text(encoding="utf-8"), str(path)).body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                names[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            names[node.target.id] = node.value
    if "revision" not in names:
        raise UnreadableMigration(f"{path.name}: no revision")
    found = {
        field: _literal(names[field], names, path, frozenset([field])) if field in names else None
        for field in _DECLARED
    }
    revision = found["revision"]
    if not isinstance(revision, str):
        raise UnreadableMigration(f"{path.name}: the revision is not a text")
    return Revision(
        revision, _names(found["down_revision"], path), _names(found["depends_on"], path)
    )


@lru_cache(maxsize=1)
def shipped() -> dict[str, Revision]:
    """Every shipped migration by revision id."""
    graph: dict[str, Revision] = {}
    for path in sorted(VERSIONS.glob("*.py")):
        if path.name.startswith("_"):
            continue
        found = read_revision(path)
        graph[found.revision] = found
    return graph


def heads() -> frozenset[str]:
    """Revisions no other revision follows (each branch's newest)."""
    graph = shipped()
    followed = {down for rev in graph.values() for down in rev.down}
    return frozenset(graph) - followed


def covered(applied: frozenset[str]) -> frozenset[str]:
    """``applied`` with all their ancestors and dependencies (what Alembic's
    ``iterate_revisions(applied, "base")`` walks)."""
    graph = shipped()
    seen: set[str] = set()
    waiting = [r for r in applied if r in graph]
    while waiting:
        current = waiting.pop()
        if current in seen:
            continue
        seen.add(current)
        rev = graph[current]
        waiting.extend(r for r in (*rev.down, *rev.depends_on) if r in graph)
    return frozenset(seen)
