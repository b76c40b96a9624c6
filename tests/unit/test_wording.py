"""The one-pass wording search finds exactly the lines that pairwise comparison finds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from drillbook.domain.finding.ranking import SIMILARITY, _words
from drillbook.domain.finding.wording import LINE, Texts, _pattern

# words that share prefixes and suffixes (a trie's hard cases), digits (like the keys),
# short words (not words), upper case, and separators inside a description
PIECES = [
    "pager",
    "pagers",
    "PAGER",
    "page",
    "rotation",
    "rotations",
    "tation",
    "legal",
    "Legal-team",
    "1234",
    "12345",
    "2024",
    "abc",
    "x9y8",
    "nothing",
    "noth",
    ",",
    "\n",
    LINE,
    "\x1f",
    "é",
    "K",  # Kelvin sign: lower() makes it a "k"
]
descriptions = st.lists(st.sampled_from(PIECES), max_size=9).map(" ".join)


def _pairwise(rows: list[tuple[int, str]], queries: list[frozenset[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    for words in queries:
        keys = []
        for key, text in rows:
            other = _words(text)
            if not words or not other:
                continue
            shared = len(words & other)
            if shared / len(words | other) >= SIMILARITY:
                keys.append(str(key))
        found.append(keys)
    return found


@settings(max_examples=300, deadline=None)
@given(
    st.lists(descriptions, max_size=30),
    st.lists(descriptions, min_size=1, max_size=6),
    st.booleans(),
)
def test_similar_lines_match_the_pairwise_comparison(
    texts: list[str], asked: list[str], sampled: bool
) -> None:
    rows = [(1000 + n, text) for n, text in enumerate(texts)]
    queries = [_words(text) for text in asked]
    found = Texts.from_rows(rows)
    # any estimate of how common words are gives the same answer
    frequency = None if sampled else Texts.from_rows(rows[::-1][:3]).frequency()
    assert found.similar(queries, frequency) == _pairwise(rows, queries)


def test_joined_text_is_checked_for_stray_separators() -> None:
    clean = LINE.join(["pager rotation", "legal team"])
    assert Texts(clean, ["1", "2"]).valid()
    assert not Texts(clean, ["1", "2", "3"]).valid()
    assert Texts("", []).valid()
    assert Texts("", ["1"]).valid()  # one empty description
    assert not Texts(LINE.join(["pager", "rotation", "legal team"]), ["1", "2"]).valid()


def test_the_trie_matches_whole_words_only() -> None:
    pattern = _pattern(["pager", "pagers", "page", "rotation"])
    text = "pagers xpager page-rotation pag rotationx"
    assert [m.group() for m in pattern.finditer(text)] == ["pagers", "pager", "page", "rotation"]
