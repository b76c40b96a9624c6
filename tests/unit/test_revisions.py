"""The shipped migration graph read without Alembic is Alembic's own: the same revisions,
heads, and ancestors-with-dependencies of every revision and of every pair."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from hypothesis import given
from hypothesis import strategies as st

from drillbook.storage import revisions
from drillbook.storage.schema import MIGRATIONS


@pytest.fixture(scope="module")
def alembic_view() -> ScriptDirectory:
    return ScriptDirectory(MIGRATIONS)


def _walked(scripts: ScriptDirectory, applied: tuple[str, ...]) -> frozenset[str]:
    return frozenset(r.revision for r in scripts.iterate_revisions(applied, "base") if r)


def test_revisions_and_heads_are_alembics(alembic_view: ScriptDirectory) -> None:
    assert set(revisions.shipped()) == {r.revision for r in alembic_view.walk_revisions()}
    assert revisions.heads() == frozenset(alembic_view.get_heads())
    assert len(revisions.heads()) > 1  # branches and dependencies are what is tested here


def test_every_revision_and_pair_covers_what_alembic_walks(
    alembic_view: ScriptDirectory,
) -> None:
    shipped = sorted(revisions.shipped())
    for one in shipped:
        assert revisions.covered(frozenset([one])) == _walked(alembic_view, (one,)), one
    walked_pairs = 0
    for pair in itertools.combinations(shipped, 2):
        union = _walked(alembic_view, pair[:1]) | _walked(alembic_view, pair[1:])
        assert revisions.covered(frozenset(pair)) == union, pair
        try:  # Alembic walks a pair only when neither is the other's ancestor
            together = _walked(alembic_view, pair)
        except RevisionError:
            continue
        assert together == union, pair
        walked_pairs += 1
    assert walked_pairs > 10


def test_a_dependency_by_name_is_followed() -> None:
    """0016_program names its dependency through a module constant."""
    program = revisions.shipped()["0016_program"]
    assert program.depends_on == ("0014_web_accounts",)
    assert "0014_web_accounts" in revisions.covered(frozenset(["0016_program"]))


@pytest.mark.parametrize(
    "source",
    [
        "revision = make_id()\n",
        "revision = 12\n",
        "down_revision = 'a'\n",
        "revision = 'a'\ndown_revision = ('b', f())\n",
        "revision = 'a'\ndown_revision = OTHER\n",
        "revision = 'a'\ndepends_on = depends_on\n",
        "revision = 'a'\nA = B\nB = A\ndown_revision = A\n",
        "revision = REV\nREV = revision\n",
    ],
)
def test_a_migration_not_written_in_literals_is_refused(tmp_path: Path, source: str) -> None:
    path = tmp_path / "0099_odd.py"
    path.write_text(source)
    with pytest.raises(revisions.UnreadableMigration, match=r"0099_odd\.py"):
        revisions.read_revision(path)


ids = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
ids_or_none = st.none() | ids | st.tuples(ids, ids)


@given(revision=ids, down=ids_or_none, depends=ids_or_none, via_name=st.booleans())
def test_any_literal_declaration_reads_back(
    tmp_path_factory: pytest.TempPathFactory,
    revision: str,
    down: str | tuple[str, str] | None,
    depends: str | tuple[str, str] | None,
    via_name: bool,
) -> None:
    path = tmp_path_factory.mktemp("rev") / "0099_any.py"
    lines = ['"""doc"""', "from alembic import op", f"revision = {revision!r}"]
    if via_name:
        lines += [f"_DOWN = {down!r}", "down_revision = _DOWN"]
    else:
        lines.append(f"down_revision: object = {down!r}")
    lines += [f"depends_on = {depends!r}", "def upgrade() -> None:", "    pass"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    found = revisions.read_revision(path)

    def as_tuple(value: str | tuple[str, str] | None) -> tuple[str, ...]:
        return () if value is None else (value,) if isinstance(value, str) else value

    assert found == revisions.Revision(revision, as_tuple(down), as_tuple(depends))
