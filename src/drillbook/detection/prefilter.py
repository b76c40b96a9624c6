"""Which rows a rule could match, found in this process before SQLite tests any.

A converted rule carries clauses of substrings (see :mod:`.sigma_literals`); a row that
lacks a substring of one of its clauses cannot match it. :func:`candidate_rows` finds,
for many rules at once, the rows that hold one of each, so each rule's predicate runs
on those rows only: the same answers as a full scan, with far fewer evaluations. Used
below the size where the trigram index of :mod:`.eventstore` pays for itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from drillbook.detection.sigma_sqlite import CompiledRule

# A substring is filed under one of the trigrams of its first this many characters.
FILING_SPAN = 16
# Splitting a value into trigrams costs about as much per character as looking for this
# many trigrams in it, and looking for one costs as much as this many characters more:
# for a value of n characters and g trigrams wanted, the lookups are cheaper when
# g * (n + GRAM_TEST_CHARS) < SPLIT_COST * n.
SPLIT_COST = 90
GRAM_TEST_CHARS = 40

# Case-folded substring -> the trigram it is filed under ("" when it is too short for
# one), for the rule sets loaded in this process (see :func:`remember_filing`).
_FILED: dict[str, str] = {}


def _trigrams(text: str) -> set[str]:
    return {text[i : i + 3] for i in range(len(text) - 2)}


def clauses(rule: CompiledRule) -> tuple[tuple[str, ...], ...]:
    """The rule's clauses (none when it promises no substring)."""
    return rule.clauses or ()


def file_literals(literals: Iterable[str]) -> dict[str, str]:
    """Each substring, case-folded, -> the trigram to file it under: among the trigrams
    of its first :data:`FILING_SPAN` characters, the one the fewest other substrings
    share ("" for a substring too short for a trigram). Any of its trigrams is correct
    (a value holding the substring holds them all); a rare one means fewer substrings
    to look for in each value that holds it."""
    grams_of: dict[str, set[str]] = {}
    for literal in literals:
        folded = literal.casefold()
        if folded not in grams_of:
            grams_of[folded] = _trigrams(folded[:FILING_SPAN])
    shared: Counter[str] = Counter()
    for grams in grams_of.values():
        shared.update(grams)
    return {
        literal: min(grams, key=shared.__getitem__) if grams else ""
        for literal, grams in grams_of.items()
    }


def rule_literals(rules: Iterable[CompiledRule]) -> list[str]:
    """Every substring of the rules' clauses."""
    return [literal for rule in rules for clause in clauses(rule) for literal in clause]


def remember_filing(filing: Mapping[str, str]) -> None:
    """Use this filing (see :func:`file_literals`) for the substrings it names, instead
    of working it out again on every run: a rule set's filing is kept with its bundle
    (a warm run of thousands of rules spent a fifth of its matching time on it)."""
    _FILED.update(filing)


def rows_by_value(rows: Iterable[tuple[Any, ...]]) -> dict[str, list[int]]:
    """``(rowid, value, value, ...)`` rows as each distinct value (as text) and the ids
    of the rows that hold it (what :func:`candidate_rows` searches); empty values (and
    the number 0) are left out, as no substring is in them."""
    rows_of_value: dict[str, list[int]] = {}
    for row in rows:
        rowid = row[0]
        # empty cells (None, "") hold no substring: C skips them
        for value in filter(None, row[1:]):
            if type(value) is not str:
                value = str(value)
            holding = rows_of_value.get(value)
            if holding is None:
                rows_of_value[value] = [rowid]
            elif holding[-1] != rowid:
                holding.append(rowid)
    return rows_of_value


def candidate_rows(
    rows_of_value: Mapping[str, Sequence[int]], rules: Sequence[tuple[int, CompiledRule]]
) -> dict[int, list[int]]:
    """Rule index -> the row ids that hold at least one substring of each of the rule's
    clauses; rules with no such row are left out.

    ``rows_of_value``: each distinct value (as text) in the rows, and the ids of the rows
    that hold it (see :func:`rows_by_value`). Every event a rule matches satisfies
    its clauses, each substring inside the value of the field tested (or the full text,
    for keyword rules; see ``clauses_of``), so a row outside the list cannot match and
    need not be tested: the answer is the same, with far fewer predicate evaluations.

    Values repeat across rows (one Image, one User, one parent in many events), so each
    distinct value is searched once. Each substring is filed under one of its trigrams
    (see :func:`file_literals`); a value is split into trigrams once, and only the
    substrings filed under those are looked for (a plain test, case-folded as Sigma
    matches). Case folding is per character, so whatever SQLite's ASCII-only
    ``NOCASE`` and ``LIKE`` find, the folded test finds too (it may find more, which
    costs only time). The rows of a rule are then set operations: per clause the union
    of its substrings' rows, over clauses their intersection.
    """
    known = _FILED
    filed: dict[str, list[str]] = {}
    unfiled: list[str] = []  # too short for a trigram
    seen: set[str] = set()
    new: list[str] = []
    for literal in rule_literals(rule for _, rule in rules):
        folded = literal.casefold()
        if folded in seen:
            continue
        seen.add(folded)
        gram = known.get(folded)
        if gram is None:
            new.append(folded)
        elif gram:
            filed.setdefault(gram, []).append(folded)
        else:
            unfiled.append(folded)
    for folded, gram in file_literals(new).items():
        if gram:
            filed.setdefault(gram, []).append(folded)
        else:
            unfiled.append(folded)

    values_of: dict[str, list[str]] = {}
    grams = tuple(filed)
    # the trigrams as triples of characters: a value's triples are zipped from three
    # views of it and looked up at C speed (three times faster than slicing them out)
    triples = {tuple(gram): gram for gram in grams}
    # looking for each trigram wanted in a long value is cheaper than splitting it
    # into its trigrams when few are wanted (a keyword rule over the full text)
    long_from = len(grams) * GRAM_TEST_CHARS / max(1, SPLIT_COST - len(grams))
    for value in rows_of_value:
        text = value.casefold()
        present: Iterable[str]
        if len(grams) < SPLIT_COST and len(text) > long_from:
            present = [gram for gram in grams if gram in text]
        else:
            hits = triples.keys() & zip(text, text[1:], text[2:], strict=False)
            present = map(triples.__getitem__, hits)
        for gram in present:
            for literal in filed[gram]:
                if literal in text:
                    values_of.setdefault(literal, []).append(value)
        for literal in unfiled:
            if literal in text:
                values_of.setdefault(literal, []).append(value)
    rows_of: dict[str, set[int]] = {
        literal: set().union(*(rows_of_value[v] for v in values))
        for literal, values in values_of.items()
    }

    empty: set[int] = set()
    found: dict[int, list[int]] = {}
    for index, rule in rules:
        matching: set[int] | None = None
        for clause in clauses(rule):
            rows_here = set().union(*(rows_of.get(lit.casefold(), empty) for lit in clause))
            matching = rows_here if matching is None else matching & rows_here
            if not matching:
                break
        if matching:
            found[index] = sorted(matching)
    return found


def has_clauses(rule: CompiledRule) -> bool:
    """Whether the prefilter can narrow this rule's rows."""
    return bool(clauses(rule))
