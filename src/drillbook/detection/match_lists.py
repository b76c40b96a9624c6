"""Long lists of plain string tests on one field, run as one SQL function call.

SigmaHQ rules often test one field against hundreds of values
(``CommandLine|contains`` with a list of tools); as LIKEs joined by OR, SQLite tests
each in turn. :func:`string_list_call` writes such an OR as
``sigma_match_any(field, '<key>')``: one call that looks the value up among the tests
in one pass, keeping its answers per value. The key is a digest of the list: SQLite
would otherwise hand the function a new copy of a list kilobytes long on every row.
A converted rule carries its lists (``CompiledRule.lists``) and
:func:`register_lists` makes them known before the rule runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any, Protocol


class HasLists(Protocol):
    """A converted rule, as far as this module needs it."""

    @property
    def lists(self) -> tuple[tuple[str, str], ...]: ...


MATCH_ANY_MIN = 8  # below this many tests, LIKE is as fast as a function call
MATCH_ANY = "sigma_match_any"


def _plain_test(value: Any) -> tuple[str, str] | None:
    """``(mode, lower-case literal)`` for a plain string test: ``=``, ``contains``,
    ``startswith`` or ``endswith`` (wildcards only at the ends), else None."""
    from sigma.types import SigmaString, SpecialChars

    if type(value) is not SigmaString:  # not a cased string or a number
        return None
    parts = list(value.s)
    head = bool(parts) and parts[0] == SpecialChars.WILDCARD_MULTI
    tail = len(parts) > 1 and parts[-1] == SpecialChars.WILDCARD_MULTI
    middle = parts[(1 if head else 0) : (len(parts) - 1 if tail else len(parts))]
    if len(middle) != 1 or not isinstance(middle[0], str) or not middle[0]:
        return None
    mode = {(True, True): "c", (False, True): "s", (True, False): "e"}.get((head, tail), "=")
    return mode, middle[0].lower()


def string_list_call(cond: Any, quote_field: Any, lists: dict[str, str]) -> str | None:
    """``sigma_match_any(field, '<key>')`` for an OR of plain string tests on one field,
    or None when the OR is anything else or too short to gain. The tests (JSON) are put
    in ``lists`` under ``key``, a digest of them: SQLite would otherwise hand the
    function a new copy of a list kilobytes long on every row."""
    from sigma.conditions import ConditionFieldEqualsValueExpression

    args = cond.args
    if len(args) < MATCH_ANY_MIN:
        return None
    if not all(isinstance(a, ConditionFieldEqualsValueExpression) for a in args):
        return None
    if len({a.field for a in args}) != 1:
        return None
    tests = [_plain_test(a.value) for a in args]
    if any(t is None for t in tests):
        return None
    encoded = json.dumps(tests, ensure_ascii=False)
    key = "L" + hashlib.sha256(encoded.encode()).hexdigest()[:24]
    lists[key] = encoded
    return f"{MATCH_ANY}({quote_field(args[0].field)}, '{key}')"


# (contains, contains beyond ASCII, startswith, endswith, equals), all lower-case
Tests = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...], frozenset[str]]


def _tests(encoded: str) -> Tests:
    """The tests of a list, grouped by mode. Substrings beyond ASCII (SigmaHQ lists
    about a thousand emoji) are kept apart: a value of ASCII characters only, as most
    are, cannot hold one, and is not searched for them."""
    contains: list[str] = []
    beyond: list[str] = []
    starts: list[str] = []
    ends: list[str] = []
    equals: set[str] = set()
    for mode, literal in json.loads(encoded):
        if mode == "c":
            (contains if literal.isascii() else beyond).append(literal)
        elif mode == "s":
            starts.append(literal)
        elif mode == "e":
            ends.append(literal)
        elif mode == "=":
            equals.add(literal)
    return tuple(contains), tuple(beyond), tuple(starts), tuple(ends), frozenset(equals)


# The lists of every rule loaded in this process, by key (a digest of the list, so two
# rules with the same list share it), each with its answers per value: a field's values
# repeat across rows (one ``Image`` in many events), and a list of hundreds of tests is
# a loop in Python.
_LISTS: dict[str, tuple[Tests, dict[str, int]]] = {}
_ANSWERS_HELD = 50_000  # answers kept over all lists (bounded memory on large inputs)
_answers_kept = [0]


def register_lists(rules: Iterable[HasLists]) -> None:
    """Make the rules' test lists known to :func:`match_any` (before they run)."""
    for rule in rules:
        for key, encoded in rule.lists:
            if key not in _LISTS:
                _LISTS[key] = (_tests(encoded), {})


def _passes(text: str, tests: Tests) -> int:
    contains, beyond, starts, ends, equals = tests
    if text in equals:
        return 1
    if starts and text.startswith(starts):
        return 1
    if ends and text.endswith(ends):
        return 1
    for literal in contains:  # a plain loop: no generator to build per call
        if literal in text:
            return 1
    if beyond and not text.isascii():
        for literal in beyond:
            if literal in text:
                return 1
    return 0


def match_any(value: Any, key: str) -> int:
    """The SQL function behind :func:`string_list_call`: 1 when ``value`` passes one of
    the tests of list ``key`` (case-insensitive, as Sigma matches), else 0; NULL never
    passes. A key never registered is an error, not a silent miss."""
    if value is None:
        return 0
    tests, answers = _LISTS[key]
    text = str(value).lower()
    found = answers.get(text)
    if found is None:
        found = _passes(text, tests)
        if _answers_kept[0] >= _ANSWERS_HELD:
            for _, held in _LISTS.values():
                held.clear()
            _answers_kept[0] = 0
        answers[text] = found
        _answers_kept[0] += 1
    return found
