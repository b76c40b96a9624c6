"""Sigma rules to SQLite predicates, with a conversion cache keyed by the rule's hash.

pySigma's SQLite backend does the translation. Three things are added here:

* **one table per log source**: a rule's table is its ``logsource`` category
  (``process_creation``), else its service (``auditd``), else its product;
* **keyword rules**: field-less values (``keywords: ['rm *bash_history']``) search the
  event's full-text column ``_raw``, which the stock backend refuses;
* **a cache**: converting the 122 Linux process_creation rules costs about a second;
  a drill re-checks the same rules every run, so conversions are stored by the SHA-256
  of the rule file (and the converter's version) and a warm run never calls pySigma.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from drillbook.errors import LibraryError, Location, Problem

RAW_FIELD = "_raw"
PIPELINE_VERSION = "4"


@functools.cache
def converter_version() -> str:
    """The converter's identity in cache keys (read once). The installed versions are
    read from the ``.dist-info`` folder names beside the ``sigma`` package: importing
    ``importlib.metadata`` alone costs a warm run a fifth of a second."""
    parts = [PIPELINE_VERSION]
    found = _dist_versions()
    for dist in ("pysigma", "pysigma_backend_sqlite"):
        version = found.get(dist)
        if version is None:
            from importlib import metadata

            try:
                version = metadata.version(dist)
            except metadata.PackageNotFoundError:
                version = "?"
        parts.append(version)
    return "/".join(parts)


def _dist_versions() -> dict[str, str]:
    """Normalised distribution name -> version, from ``*.dist-info`` beside ``sigma``."""
    import importlib.util

    spec = importlib.util.find_spec("sigma")
    found: dict[str, str] = {}
    for location in (spec.submodule_search_locations or []) if spec else []:
        for info in Path(location).parent.glob("*.dist-info"):
            name, _, version = info.name.removesuffix(".dist-info").partition("-")
            found.setdefault(name.lower().replace("-", "_").replace(".", "_"), version)
    return found


@dataclass(frozen=True)
class CompiledRule:
    """A Sigma rule ready to run: its identity, level, table and SQL predicate."""

    path: str
    rule_id: str | None
    title: str
    level: str | None
    table: str
    condition: str | None
    fields: tuple[str, ...]
    techniques: tuple[str, ...]
    error: str | None = None
    # Substrings (3+ characters) at least one of which any matching event contains;
    # None when the rule has no such necessary literal (see anchors_of).
    anchors: tuple[str, ...] | None = None

    @property
    def usable(self) -> bool:
        return self.condition is not None and self.error is None

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> CompiledRule:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompiledRule:
        data["fields"] = tuple(data["fields"])
        data["techniques"] = tuple(data["techniques"])
        if data.get("anchors") is not None:
            data["anchors"] = tuple(data["anchors"])
        return cls(**data)


def table_for(logsource: Any) -> str:
    """The event table of a rule's log source."""
    for attr in ("category", "service", "product"):
        value = getattr(logsource, attr, None)
        if value:
            return "".join(c if c.isalnum() else "_" for c in str(value).lower())
    return "events"


def techniques_of(tags: Iterable[Any]) -> tuple[str, ...]:
    """ATT&CK technique ids (``T1082``, ``T1059.004``) from a rule's tags."""
    found = []
    for tag in tags:
        text = str(tag).lower()
        if text.startswith("attack.t") and text[8:9].isdigit():
            found.append(text.removeprefix("attack.").upper())
    return tuple(found)


def _backend_class() -> type[Any]:
    from sigma.backends.sqlite.sqlite import sqliteBackend
    from sigma.conditions import ConditionValueExpression
    from sigma.types import SigmaString, SpecialChars

    class DrillbookSqlite(sqliteBackend):
        """The stock backend, plus keyword search on ``_raw`` and a bare predicate out."""

        # Numbers are stored as text (to keep big integers exact); compare them as numbers.
        compare_op_expression = "CAST({field} AS NUMERIC) {operator} {value}"
        # Sigma's null is "empty or absent": an EVTX field written empty (Sysmon 8's
        # StartModule on older Sysmon) is null too, as other engines read it.
        field_null_expression = "({field} IS NULL OR {field} = '')"

        def convert_condition_val_str(self, cond: ConditionValueExpression, state: Any) -> str:
            value: Any = cond.value
            if not value.startswith(SpecialChars.WILDCARD_MULTI):
                value = SigmaString("*") + value
            if not value.endswith(SpecialChars.WILDCARD_MULTI):
                value = value + SigmaString("*")
            text: str = self.wildcard_match_str_expression.format(
                field=RAW_FIELD, value=self.convert_value_str(value, state, no_quote=True)
            )
            return text

        def convert_condition_val_num(self, cond: ConditionValueExpression, state: Any) -> str:
            text: str = self.wildcard_match_str_expression.format(
                field=RAW_FIELD, value=f"%{cond.value}%"
            )
            return text

        def finalize_query_default(self, rule: Any, query: str, index: int, state: Any) -> str:
            return query

        def convert_condition_or(self, cond: Any, state: Any) -> Any:
            """A long list of plain string tests on one field (``CommandLine|contains``
            with 1,000 emoji) as one call of :func:`match_any` instead of one LIKE each:
            a single pass over the value, several times faster."""
            call = string_list_call(cond, self.escape_and_quote_field)
            return call if call is not None else super().convert_condition_or(cond, state)

    return DrillbookSqlite


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


def string_list_call(cond: Any, quote_field: Any) -> str | None:
    """``sigma_match_any(field, '<tests>')`` for an OR of plain string tests on one field,
    or None when the OR is anything else or too short to gain."""
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
    encoded = json.dumps(tests, ensure_ascii=False).replace("'", "''")
    return f"{MATCH_ANY}({quote_field(args[0].field)}, '{encoded}')"


Tests = tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], frozenset[str]]


@functools.lru_cache(maxsize=1024)
def _tests(encoded: str) -> Tests:
    contains: list[str] = []
    starts: list[str] = []
    ends: list[str] = []
    equals: set[str] = set()
    for mode, literal in json.loads(encoded):
        {"c": contains, "s": starts, "e": ends}.get(mode, []).append(literal)
        if mode == "=":
            equals.add(literal)
    return tuple(contains), tuple(starts), tuple(ends), frozenset(equals)


# SQLite hands the function a new copy of the (often kilobytes long) test list on every
# call, so looking it up by the whole string would hash kilobytes per row and rule:
# look it up by its length and ends, then confirm with one comparison (a memcmp).
# Each list keeps its answers per value: a field's values repeat across rows (one
# ``Image`` in many events), and a list of hundreds of tests is a loop in Python.
_BY_SHAPE: dict[tuple[int, str, str], list[tuple[str, Tests, dict[str, int]]]] = {}
_SHAPES_HELD = 4096
_ANSWERS_HELD = 50_000  # answers kept over all lists (bounded memory on large inputs)
_answers_kept = [0]


def _tests_for(encoded: str) -> tuple[Tests, dict[str, int]]:
    shape = (len(encoded), encoded[:40], encoded[-40:])
    bucket = _BY_SHAPE.get(shape)
    if bucket is not None:
        for known, tests, answers in bucket:
            if known == encoded:
                return tests, answers
    if len(_BY_SHAPE) >= _SHAPES_HELD:
        _BY_SHAPE.clear()
        _answers_kept[0] = 0
    entry: tuple[str, Tests, dict[str, int]] = (encoded, _tests(encoded), {})
    _BY_SHAPE.setdefault(shape, []).append(entry)
    return entry[1], entry[2]


def _passes(text: str, tests: Tests) -> int:
    contains, starts, ends, equals = tests
    if text in equals:
        return 1
    if starts and text.startswith(starts):
        return 1
    if ends and text.endswith(ends):
        return 1
    for literal in contains:  # a plain loop: no generator to build per call
        if literal in text:
            return 1
    return 0


def match_any(value: Any, encoded: str) -> int:
    """The SQL function behind :func:`string_list_call`: 1 when ``value`` passes one of
    the tests (case-insensitive, as Sigma matches), else 0; NULL never passes."""
    if value is None:
        return 0
    text = str(value).lower()
    tests, answers = _tests_for(encoded)
    found = answers.get(text)
    if found is None:
        found = _passes(text, tests)
        if _answers_kept[0] >= _ANSWERS_HELD:
            for _, _, held in (e for b in _BY_SHAPE.values() for e in b):
                held.clear()
            _answers_kept[0] = 0
        answers[text] = found
        _answers_kept[0] += 1
    return found


def _fields_of(backend: Any, rule: Any) -> tuple[str, ...]:
    fields = set(backend.required_fields(rule))
    return tuple(sorted(fields))


def _uses_keywords(rule: Any) -> bool:
    from sigma.conditions import ConditionValueExpression

    def walk(cond: Any) -> bool:
        if isinstance(cond, ConditionValueExpression):
            return True
        return any(walk(arg) for arg in getattr(cond, "args", []))

    return any(walk(c.parsed) for c in rule.detection.parsed_condition)


MIN_ANCHOR = 3  # the trigram index cannot look up shorter substrings


def _literal(value: Any) -> str | None:
    """The longest run of plain characters in a Sigma string (between wildcards)."""
    from sigma.types import SigmaString

    if not isinstance(value, SigmaString):
        return None
    best = max((part for part in value.s if isinstance(part, str)), key=len, default="")
    return best if len(best) >= MIN_ANCHOR else None


def _necessary(node: Any) -> frozenset[str] | None:
    """Substrings one of which every event matching ``node`` contains, or None.

    A string test (equals, contains, startswith, endswith, wildcards, keywords) needs its
    longest literal run; an OR needs one of its children's; an AND needs any one child's
    (the most selective is chosen); a NOT, regex, number or null test gives nothing.
    Matching is case-insensitive everywhere, so the index lookup is too.
    """
    from sigma.conditions import (
        ConditionAND,
        ConditionFieldEqualsValueExpression,
        ConditionOR,
        ConditionValueExpression,
    )

    if isinstance(node, ConditionFieldEqualsValueExpression | ConditionValueExpression):
        literal = _literal(node.value)
        return None if literal is None else frozenset({literal})
    if isinstance(node, ConditionOR):
        out: set[str] = set()
        for arg in node.args:
            child = _necessary(arg)
            if child is None:
                return None
            out |= child
        return frozenset(out)
    if isinstance(node, ConditionAND):
        options = [c for c in (_necessary(a) for a in node.args) if c]
        if not options:
            return None
        return max(options, key=lambda c: (min(len(x) for x in c), -len(c)))
    return None


def anchors_of(rule: Any) -> tuple[str, ...] | None:
    """The rule's necessary substrings (over all its conditions), or None."""
    found: set[str] = set()
    for condition in rule.detection.parsed_condition:
        needed = _necessary(condition.parsed)
        if needed is None:
            return None
        found |= needed
    return tuple(sorted(found)) or None


def compile_text(text: str, path: str) -> CompiledRule:
    """Convert one rule file's text; a rule the backend cannot express is returned with
    ``error`` set (reported and skipped), a file that is not a Sigma rule raises."""
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaError
    from sigma.rule import SigmaRule

    try:
        collection = SigmaCollection.from_yaml(text)
    except SigmaError as exc:
        raise LibraryError.single(
            Location.of(path), f"not a valid Sigma rule: {exc}", "sigma"
        ) from None
    except Exception as exc:  # ruamel/yaml errors surface as many types
        raise LibraryError.single(
            Location.of(path), f"not a valid Sigma rule: {exc}", "sigma"
        ) from None
    rules = [r for r in collection.rules if isinstance(r, SigmaRule)]
    if not rules:
        raise LibraryError.single(
            Location.of(path), "no Sigma detection rule in this file", "sigma"
        )
    rule = rules[0]
    level = rule.level.name.lower() if rule.level is not None else None
    base: dict[str, Any] = {
        "path": path,
        "rule_id": str(rule.id) if rule.id else None,
        "title": rule.title,
        "level": level,
        "table": table_for(rule.logsource),
        "techniques": techniques_of(rule.tags),
    }
    backend = _backend_class()()
    try:
        queries = backend.convert_rule(rule)
        fields = _fields_of(backend, rule)
        if _uses_keywords(rule):
            fields = (*fields, RAW_FIELD)
    except (SigmaError, NotImplementedError, ValueError, TypeError) as exc:
        return CompiledRule(condition=None, fields=(), error=str(exc), **base)
    condition = " OR ".join(f"({q})" for q in queries) if len(queries) > 1 else queries[0]
    return CompiledRule(condition=condition, fields=fields, anchors=anchors_of(rule), **base)


def rule_key(text: bytes) -> str:
    digest = hashlib.sha256()
    digest.update(converter_version().encode())
    digest.update(b"\0")
    digest.update(text)
    return digest.hexdigest()


class ConversionCache:
    """Conversions by rule hash: in memory, and in an SQLite file when given a path.

    Besides one row per rule, a whole rule set is kept as one *bundle* (keyed by the
    converter version and every file's path and hash), so a warm run reads one row and
    decodes it once instead of thousands. Rows are read only when a bundle misses.
    A cache that cannot be written (read-only library) is used in memory only; a
    corrupt cache file is rebuilt, since everything in it can be derived again.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._memory: dict[str, CompiledRule] = {}
        self._pending: dict[str, CompiledRule] = {}
        self._pending_bundles: dict[str, list[CompiledRule]] = {}
        self._loaded = path is None
        self.hits = 0
        self.misses = 0

    def _connect(self, path: Path) -> sqlite3.Connection:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path)
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS conversions (key TEXT PRIMARY KEY, rule TEXT)")
            conn.execute("CREATE TABLE IF NOT EXISTS bundles (key TEXT PRIMARY KEY, rules TEXT)")
        except BaseException:
            conn.close()  # a corrupt or read-only file: the caller falls back to memory
            raise
        return conn

    def _broken(self, path: Path) -> None:
        self._memory.clear()
        try:
            path.unlink(missing_ok=True)
        except OSError:
            self.path = None

    def _load(self) -> None:
        self._loaded = True
        if self.path is None:
            return
        try:
            conn = self._connect(self.path)
            try:
                for key, text in conn.execute("SELECT key, rule FROM conversions"):
                    self._memory[key] = CompiledRule.from_json(text)
            finally:
                conn.close()
        except (sqlite3.DatabaseError, OSError, ValueError, TypeError, KeyError):
            self._broken(self.path)

    def bundle(self, key: str) -> list[CompiledRule] | None:
        """A whole rule set converted before, in one read; None when not cached."""
        if self.path is None or not self.path.is_file():
            return None
        try:
            conn = self._connect(self.path)
            try:
                row = conn.execute("SELECT rules FROM bundles WHERE key = ?", (key,)).fetchone()
            finally:
                conn.close()
            if row is None:
                return None
            rules = [CompiledRule.from_dict(d) for d in json.loads(row[0])]
            self.hits += len(rules)
            return rules
        except (sqlite3.DatabaseError, OSError, ValueError, TypeError, KeyError):
            self._broken(self.path)
            return None

    def put_bundle(self, key: str, rules: list[CompiledRule]) -> None:
        self._pending_bundles[key] = rules

    def get(self, key: str) -> CompiledRule | None:
        if not self._loaded:
            self._load()
        found = self._memory.get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def put(self, key: str, rule: CompiledRule) -> None:
        self._memory[key] = rule
        self._pending[key] = rule

    def flush(self) -> None:
        if self.path is None or not (self._pending or self._pending_bundles):
            self._pending.clear()
            self._pending_bundles.clear()
            return
        try:
            conn = self._connect(self.path)
            try:
                with conn:
                    conn.executemany(
                        "INSERT OR REPLACE INTO conversions (key, rule) VALUES (?, ?)",
                        [(k, r.to_json()) for k, r in self._pending.items()],
                    )
                    conn.executemany(
                        "INSERT OR REPLACE INTO bundles (key, rules) VALUES (?, ?)",
                        [
                            (k, json.dumps([asdict(r) for r in rules]))
                            for k, rules in self._pending_bundles.items()
                        ],
                    )
            finally:
                conn.close()
        except (sqlite3.DatabaseError, OSError):
            self.path = None
        self._pending.clear()
        self._pending_bundles.clear()


def rule_files(path: Path) -> list[Path]:
    """A rule file, or every ``.yml``/``.yaml`` below a folder, in a stable order."""
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.suffix in {".yml", ".yaml"} and p.is_file())
    if not path.exists():
        raise LibraryError.single(Location.of(path), "no such rule file or folder", "missing")
    return [path]


def compile_rules(
    paths: Iterable[Path], cache: ConversionCache | None = None
) -> tuple[list[CompiledRule], list[Problem]]:
    """Compile rules (from the cache where possible). Files that are not Sigma rules are
    returned as problems; rules the backend cannot express come back with ``error`` set.
    A rule set seen before comes back from its bundle in one read."""
    cache = cache if cache is not None else ConversionCache()
    problems: list[Problem] = []
    files: list[tuple[Path, bytes, str]] = []
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError as exc:
            problems.append(Problem(Location.of(path), f"cannot read: {exc.strerror}", "io"))
            continue
        files.append((path, data, rule_key(data)))
    bundle_key = hashlib.sha256(
        "\0".join(f"{path}\0{key}" for path, _, key in files).encode()
    ).hexdigest()
    if not problems:
        bundled = cache.bundle(bundle_key)
        if bundled is not None:
            return bundled, problems
    compiled: list[CompiledRule] = []
    for path, data, key in files:
        found = cache.get(key)
        if found is None:
            try:
                found = compile_text(data.decode("utf-8", errors="replace"), str(path))
            except LibraryError as exc:
                problems.extend(exc.problems)
                continue
            cache.put(key, found)
        elif found.path != str(path):
            found = replace(found, path=str(path))
        compiled.append(found)
    if not problems and len(compiled) > 1:
        cache.put_bundle(bundle_key, compiled)
    cache.flush()
    return compiled, problems
