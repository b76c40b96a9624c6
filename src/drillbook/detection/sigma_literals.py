"""Substrings a Sigma rule's matches must contain, read from its parsed condition.

They let the engine skip rows a rule cannot match (see :mod:`.prefilter` and the
trigram index in :mod:`.eventstore`): a row that lacks them is never tested. They are
worked out once, at conversion, and kept with the converted rule.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Any

MIN_ANCHOR = 3  # the trigram index cannot look up shorter substrings


def _literal(value: Any) -> str | None:
    """The longest run of plain characters in a Sigma string (between wildcards) or a
    case-sensitive regular expression."""
    from sigma.types import SigmaRegularExpression, SigmaString

    if isinstance(value, SigmaRegularExpression):
        return _regex_literal(value)
    if not isinstance(value, SigmaString):
        return None
    best = max((part for part in value.s if isinstance(part, str)), key=len, default="")
    return best if len(best) >= MIN_ANCHOR else None


def _regex_literal(value: Any) -> str | None:
    """The longest run of plain characters every match of a regular expression holds:
    characters in sequence at its top level (not under an alternation, a repeat or a
    group), read by the standard library's own pattern parser. None for a pattern that
    ignores case: re matches some characters to others that fold differently (``İ``
    and ``i``), which the case-folded search of the prefilter would not find. Sigma
    regexes are case-sensitive unless told, and a case-sensitive match holds the run
    exactly, so the folded search finds it."""
    import re
    from re import _parser  # type: ignore[attr-defined]

    from sigma.types import SigmaRegularExpressionFlag

    if SigmaRegularExpressionFlag.IGNORECASE in value.flags or value.contains_placeholder():
        return None
    try:
        parsed = _parser.parse(str(value.regexp))
    except re.error:  # pySigma compiled it: not expected, and it would promise nothing
        return None
    if parsed.state.flags & re.IGNORECASE:
        return None
    best, run = "", ""
    for op, argument in parsed.data:
        if op is _parser.LITERAL:
            run += chr(argument)
        else:
            best, run = max(best, run, key=len), ""
    best = max(best, run, key=len)
    return best if len(best) >= MIN_ANCHOR else None


Clauses = list[frozenset[str]]


def _selectivity(clause: Collection[str]) -> tuple[int, int]:
    """How selective a clause likely is: its shortest substring the longer, and then the
    fewer substrings, the rarer the rows that hold one."""
    return min(len(x) for x in clause), -len(clause)


def _required(node: Any) -> Clauses:
    """Clauses of substrings that every event matching ``node`` satisfies: it holds at
    least one substring of each clause (an empty list: nothing is known).

    A string test needs its longest literal run, a case-sensitive regex its longest run
    of plain characters; an AND needs all its children's clauses; an OR needs one clause
    made of one clause of each child (the one whose shortest substring is longest, as
    the most selective guess), and nothing when a child gives nothing; NOT, number and
    null tests and case-insensitive regexes give nothing. Matching is case-insensitive
    everywhere, so the substrings are looked for without case too.
    """
    from sigma.conditions import (
        ConditionAND,
        ConditionFieldEqualsValueExpression,
        ConditionOR,
        ConditionValueExpression,
    )

    if isinstance(node, ConditionFieldEqualsValueExpression | ConditionValueExpression):
        literal = _literal(node.value)
        return [] if literal is None else [frozenset({literal})]
    if isinstance(node, ConditionAND):
        out: Clauses = []
        for arg in node.args:
            for clause in _required(arg):
                if clause not in out:
                    out.append(clause)
        return out
    if isinstance(node, ConditionOR):
        merged: set[str] = set()
        for arg in node.args:
            child = _required(arg)
            if not child:
                return []
            merged |= max(child, key=_selectivity)
        return [frozenset(merged)]
    return []


def clauses_of(rule: Any) -> tuple[tuple[str, ...], ...] | None:
    """The rule's required clauses over all its conditions (an event it matches satisfies
    every clause of one of its conditions, so with several conditions they are merged
    as an OR), or None when nothing is required."""
    conditions = [_required(c.parsed) for c in rule.detection.parsed_condition]
    if not conditions or any(not c for c in conditions):
        return None
    if len(conditions) == 1:
        found = conditions[0]
    else:
        merged: set[str] = set()
        for clauses in conditions:
            merged |= max(clauses, key=_selectivity)
        found = [frozenset(merged)]
    return tuple(tuple(sorted(clause)) for clause in found)


def most_selective(clauses: Iterable[tuple[str, ...]]) -> tuple[str, ...]:
    """The clause the trigram index looks up: the likeliest to be rare."""
    return max(clauses, key=_selectivity)
