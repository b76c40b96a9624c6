"""Which stored descriptions are worded like a few given ones, in one pass over their text.

Ranking (the runs worded like each fix shown) and lint's repeat check (the findings
worded like each group's first) ask which of a program's 100,000 descriptions share
enough words with a handful of others (Jaccard >= :data:`~drillbook.domain.finding.
ranking.SIMILARITY`, words as :func:`~drillbook.domain.finding.ranking._words` reads
them). Splitting every description into its set of words took most of their time.
Here the database joins the descriptions into one text (:class:`Texts`), and one
regular expression finds where the few words that can decide occur: a description
shares at least ``r = ceil(t * n)`` of a query's ``n`` words when it is similar, so it
holds at least two of the query's ``n - r + 2`` rarest words. Only the descriptions that
do are split into words and compared exactly, so the answer is the same as comparing
every pair.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable, Sequence
from itertools import accumulate
from typing import Any

from drillbook.domain.finding.ranking import _WORD, SIMILARITY

LINE = "\x1e"  # between descriptions (ASCII record separator)
SAMPLE_CHUNKS = 64  # pieces of the text whose words estimate how common each word is
SAMPLE_CHARS = 6000  # characters per piece
_WORD_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")

_Trie = dict[str, "_Trie"]  # a word's characters, one level each; "" marks a word's end


class Texts:
    """Descriptions as one lowered text, joined by ``LINE``, and each line's key (a
    finding's number, as text). The database gives both joined (see
    :func:`drillbook.domain.finding.sql.read_texts`); a description holding the
    separator would shift the lines, which :meth:`valid` tells."""

    def __init__(self, joined: str, keys: Sequence[str], *, lowered: bool = False) -> None:
        self.text = joined if lowered else joined.lower()
        self.keys = keys
        self._starts: list[int] | None = None
        self._frequency: Counter[str] | None = None

    @classmethod
    def from_lines(cls, lines: Sequence[str], keys: Sequence[str]) -> Texts:
        """From descriptions already lowered and free of the separator."""
        texts = cls(LINE.join(lines), keys, lowered=True)
        texts._starts = _starts(lines)
        return texts

    @classmethod
    def from_rows(cls, rows: Iterable[Sequence[Any]]) -> Texts:
        """From ``(key, description)`` rows, separators inside descriptions blanked (not a
        word character: no description's words change)."""
        pairs = [(str(key), str(text).replace(LINE, " ")) for key, text in rows]
        return cls(LINE.join(text for _, text in pairs), [key for key, _ in pairs])

    def valid(self) -> bool:
        if not self.keys:
            return not self.text
        return self.text.count(LINE) == len(self.keys) - 1

    def starts(self) -> list[int]:
        """Where each line starts, and one more: where a line after the last would."""
        if self._starts is None:
            self._starts = _starts(self.text.split(LINE))
        return self._starts

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
        text, starts = self.text, self.starts()
        met: dict[tuple[int, int], int] = {}  # (line, query): its rare words there
        for match in _pattern(by_word).finditer(text):
            start = match.start()
            if start and text[start - 1] in _WORD_CHARS:
                continue  # the end of a longer word
            line = bisect_right(starts, start) - 1
            for index in by_word[match.group()]:
                met[line, index] = met.get((line, index), 0) + 1
        words_at: dict[int, frozenset[str]] = {}
        for (line, index), count in sorted(met.items()):
            if count < needed[index]:
                continue
            other = words_at.get(line)
            if other is None:
                span = (starts[line], starts[line + 1] - 1)
                other = words_at[line] = frozenset(_WORD.findall(text, *span))
            words = queries[index]
            shared = len(words & other)
            if shared / (len(words) + len(other) - shared) >= SIMILARITY:
                found[index].append(self.keys[line])
        return found


def _starts(lines: Iterable[str]) -> list[int]:
    return list(accumulate(map((1).__add__, map(len, lines)), initial=0))


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
