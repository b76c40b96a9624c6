"""Which stored descriptions are worded like a few given ones, in one pass over their text.

Ranking (the runs worded like each fix shown) and lint's repeat check (the findings
worded like each group's first) ask which of a program's 100,000 descriptions share
enough words with a handful of others (Jaccard >= :data:`~drillbook.domain.finding.
ranking.SIMILARITY`, words as :func:`~drillbook.domain.finding.ranking._words` reads
them). Splitting every description into its set of words took most of their time.
Here the database joins the descriptions into one text (:class:`Texts`), and a single
regular expression finds where the few words that can decide occur: a description
shares at least ``r = ceil(t * n)`` of a query's ``n`` words when it is similar, so it
holds at least two of the query's ``n - r + 2`` rarest words. Only the descriptions that
do are split into words and compared exactly, so the answer is the same as comparing
every pair.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from drillbook.domain.finding.ranking import _WORD, SIMILARITY

LINE = "\x1e"  # between descriptions (ASCII record separator)
KEY = "\x1f"  # between a line's key and its description (ASCII unit separator)
SAMPLE_CHUNKS = 64  # pieces of the text whose words estimate how common each word is
SAMPLE_CHARS = 6000  # characters per piece
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")

_Trie = dict[str, "_Trie"]  # a word's characters, one level each; "" marks a word's end


class Texts:
    """Descriptions as one lowered text: ``key KEY description`` lines joined by
    ``LINE``. ``joined`` is what the database gives (see
    :func:`drillbook.domain.finding.sql.joined_lines`); a description holding a
    separator would break the lines, so :meth:`valid` says whether it has ``lines``."""

    def __init__(self, joined: str, *, lowered: bool = False) -> None:
        self.text = joined if lowered else joined.lower()
        self._frequency: Counter[str] | None = None

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[Any]]) -> Texts:
        """From ``(key, description)`` pairs, separators inside descriptions blanked (they
        are not word characters, so no description's words change)."""
        return cls(
            LINE.join(
                f"{key}{KEY}{text.replace(LINE, ' ').replace(KEY, ' ')}" for key, text in rows
            )
        )

    def valid(self, lines: int) -> bool:
        return (lines == 0 and not self.text) or (lines > 0 and self.text.count(LINE) == lines - 1)

    def lines(self) -> list[str]:
        return self.text.split(LINE) if self.text else []

    def frequency(self) -> Counter[str]:
        """How often each word occurs in evenly spread pieces of the text: which of a
        query's words are rare. Any estimate gives the same answer; a good one only
        means fewer descriptions compared."""
        if self._frequency is None:
            text = self.text
            if len(text) <= SAMPLE_CHUNKS * SAMPLE_CHARS:
                self._frequency = Counter(_WORD.findall(text))
            else:
                stride = len(text) // SAMPLE_CHUNKS
                self._frequency = Counter(
                    word
                    for start in range(0, len(text), stride)
                    for word in _WORD.findall(text, start, start + SAMPLE_CHARS)
                )
        return self._frequency

    def similar(
        self, queries: Sequence[frozenset[str]], frequency: Counter[str] | None = None
    ) -> list[list[str]]:
        """For each of ``queries`` (a word set, as ``_words`` gives), the keys of the lines
        whose description has Jaccard >= SIMILARITY with it, in text order."""
        found: list[list[str]] = [[] for _ in queries]
        common = self.frequency() if frequency is None else frequency
        by_word: dict[str, list[int]] = {}
        needed: list[int] = []
        for index, words in enumerate(queries):
            needed.append(_prefix(words, common, index, by_word))
        if not by_word:
            return found
        text = self.text
        met: dict[tuple[int, int], int] = {}  # (line start, query): its rare words there
        for match in _pattern(by_word).finditer(text):
            start = match.start()
            if start and text[start - 1] in _WORD_CHARS:
                continue  # the end of a longer word
            line = text.rfind(LINE, 0, start) + 1
            for index in by_word[match.group()]:
                met[line, index] = met.get((line, index), 0) + 1
        words_at: dict[int, frozenset[str]] = {}
        for (line, index), count in sorted(met.items()):
            if count < needed[index]:
                continue
            # a word met in the line's key only lets a line through to this exact check
            key_end = text.find(KEY, line)
            other = words_at.get(line)
            if other is None:
                end = text.find(LINE, key_end)
                other = frozenset(_WORD.findall(text, key_end + 1, len(text) if end < 0 else end))
                words_at[line] = other
            words = queries[index]
            shared = len(words & other)
            if shared / (len(words) + len(other) - shared) >= SIMILARITY:
                found[index].append(text[line:key_end])
        return found


def _prefix(
    words: frozenset[str], frequency: Counter[str], index: int, by_word: dict[str, list[int]]
) -> int:
    """Index query ``index`` by its rarest words; return how many of them a similar line
    holds at least (0: no line can be similar)."""
    size = len(words)
    if not size:
        return 0
    # at least `least` shared words (rounded down a hair: never more than exact)
    least = max(1, math.ceil(SIMILARITY * size - 1e-9))
    keep = min(size, size - least + 2)
    for word in sorted(words, key=lambda w: (frequency[w], w))[:keep]:
        by_word.setdefault(word, []).append(index)
    return max(1, least - (size - keep))


def _pattern(words: Iterable[str]) -> re.Pattern[str]:
    """One expression matching any of ``words`` ending at a word's end, as a trie (an
    alternation of 100 words was eight times slower); the start is checked by the
    caller (a look-behind made the search three times slower)."""
    root: _Trie = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return re.compile(_branches(root) + "(?![a-z0-9])")


def _branches(node: _Trie) -> str:
    parts = []
    for char in sorted(c for c in node if c):
        text, child = char, node[char]
        while len(child) == 1 and "" not in child:  # a chain: one literal
            (char,) = child
            text, child = text + char, child[char]
        parts.append(re.escape(text) + _branches(child))
    if not parts:
        return ""
    body = parts[0] if len(parts) == 1 else "(?:" + "|".join(parts) + ")"
    return f"(?:{body})?" if "" in node else body
