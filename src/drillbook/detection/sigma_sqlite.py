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
import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from drillbook import clock
from drillbook.detection.match_lists import string_list_call
from drillbook.detection.prefilter import file_literals, remember_filing, rule_literals
from drillbook.detection.sigma_literals import clauses_of, most_selective
from drillbook.documents.folders import files_below
from drillbook.errors import LibraryError, Location, Problem

RAW_FIELD = "_raw"
PIPELINE_VERSION = "7"
# How a rule set is kept as one bundle (see _bundled); part of the bundle's key.
BUNDLE_FORMAT = "bundle-2"
# A rule file changed more recently than this is hashed even when its stat signature
# is unchanged (see stat_signature).
SETTLE_SECONDS = 2.0


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
    # Every matching event holds at least one substring (3+ characters) of *each*
    # clause (see clauses_of); None when there is none.
    clauses: tuple[tuple[str, ...], ...] | None = None
    # The test lists its ``sigma_match_any`` calls name by key: (key, JSON of the tests)
    lists: tuple[tuple[str, str], ...] = ()

    @property
    def usable(self) -> bool:
        return self.condition is not None and self.error is None

    @property
    def anchors(self) -> tuple[str, ...] | None:
        """The substrings of the most selective clause, one of which any matching event
        contains (what the trigram index looks up); None when there is no clause."""
        return None if not self.clauses else most_selective(self.clauses)

    @property
    def readable_condition(self) -> str | None:
        """The predicate as a person reads it: each test list written out in place of
        the key the engine looks it up by."""
        text = self.condition
        if text is None:
            return None
        for key, encoded in self.lists:
            text = text.replace(f"'{key}'", "'" + encoded.replace("'", "''") + "'")
        return text

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> CompiledRule:
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CompiledRule:
        data["fields"] = tuple(data["fields"])
        data["techniques"] = tuple(data["techniques"])
        if data.get("clauses") is not None:
            data["clauses"] = tuple(tuple(clause) for clause in data["clauses"])
        data["lists"] = tuple((key, encoded) for key, encoded in data.get("lists", ()))
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

        # test lists of the rule being converted, by key (see string_list_call)
        match_lists: dict[str, str]

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
            call = string_list_call(cond, self.escape_and_quote_field, self.match_lists)
            return call if call is not None else super().convert_condition_or(cond, state)

    return DrillbookSqlite


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


def _collection(text: str, collection: Any) -> Any:
    """The rule file as a pySigma collection. pySigma reads YAML with PyYAML's
    pure-Python loader, which is most of a conversion's time; libyaml's loader (same
    safe constructors, so the same documents) reads it several times faster. A file
    that loader refuses is read pySigma's own way, so a bad file gets pySigma's words."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", None)
    if loader is not None:
        try:
            documents = list(yaml.load_all(text, Loader=loader))
        except yaml.YAMLError:
            pass
        else:
            return collection.from_dicts(documents)
    return collection.from_yaml(text)


def compile_text(text: str, path: str) -> CompiledRule:
    """Convert one rule file's text; a rule the backend cannot express is returned with
    ``error`` set (reported and skipped), a file that is not a Sigma rule raises."""
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaError
    from sigma.rule import SigmaRule

    try:
        collection = _collection(text, SigmaCollection)
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
    backend.match_lists = {}
    try:
        queries = backend.convert_rule(rule)
        fields = _fields_of(backend, rule)
        if _uses_keywords(rule):
            fields = (*fields, RAW_FIELD)
    except (SigmaError, NotImplementedError, ValueError, TypeError) as exc:
        return CompiledRule(condition=None, fields=(), error=str(exc), **base)
    condition = " OR ".join(f"({q})" for q in queries) if len(queries) > 1 else queries[0]
    return CompiledRule(
        condition=condition,
        fields=fields,
        clauses=clauses_of(rule),
        lists=tuple(sorted(backend.match_lists.items())),
        **base,
    )


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
        self._pending_signatures: dict[str, str] = {}  # stat signature -> bundle key
        self._loaded = path is None
        self.hits = 0
        self.misses = 0

    def _connect(self, path: Path) -> sqlite3.Connection:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(path)
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS conversions (key TEXT PRIMARY KEY, rule TEXT)")
            conn.execute("CREATE TABLE IF NOT EXISTS bundles (key TEXT PRIMARY KEY, rules TEXT)")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS signatures (key TEXT PRIMARY KEY, bundle TEXT)"
            )
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

    def bundle(self, key: str, *, signature: bool = False) -> list[CompiledRule] | None:
        """A whole rule set converted before, in one read; None when not cached. With
        ``signature``, ``key`` is the rule files' stat signature (see
        :func:`stat_signature`) recorded for a bundle, not the bundle's own key."""
        if self.path is None or not self.path.is_file():
            return None
        sql = "SELECT rules FROM bundles WHERE key = ?"
        if signature:
            sql = (
                "SELECT b.rules FROM signatures s JOIN bundles b ON b.key = s.bundle "
                "WHERE s.key = ?"
            )
        try:
            conn = self._connect(self.path)
            try:
                row = conn.execute(sql, (key,)).fetchone()
            finally:
                conn.close()
            if row is None:
                return None
            rules = _unbundle(row[0])
            self.hits += len(rules)
            return rules
        except (sqlite3.DatabaseError, OSError, ValueError, TypeError, KeyError):
            self._broken(self.path)
            return None

    def put_bundle(self, key: str, rules: list[CompiledRule]) -> None:
        self._pending_bundles[key] = rules

    def put_signature(self, signature: str, key: str) -> None:
        """Find bundle ``key`` by the rule files' stat signature from now on."""
        self._pending_signatures[signature] = key

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
        pending = self._pending or self._pending_bundles or self._pending_signatures
        if self.path is None or not pending:
            self._clear_pending()
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
                        [(k, _bundled(rules)) for k, rules in self._pending_bundles.items()],
                    )
                    conn.executemany(
                        "INSERT OR REPLACE INTO signatures (key, bundle) VALUES (?, ?)",
                        list(self._pending_signatures.items()),
                    )
            finally:
                conn.close()
        except (sqlite3.DatabaseError, OSError):
            self.path = None
        self._clear_pending()

    def _clear_pending(self) -> None:
        self._pending.clear()
        self._pending_bundles.clear()
        self._pending_signatures.clear()


_FIELDS = tuple(f.name for f in fields(CompiledRule))


def _bundled(rules: Sequence[CompiledRule]) -> str:
    """A rule set as one JSON document: each rule as an array of its fields (half the
    decoding of an object per rule; the fields' names are part of the bundle's key),
    and the filing of its substrings under trigrams (see
    :func:`~.prefilter.file_literals`), worked out once here instead of per run."""
    filing = file_literals(rule_literals(rules))
    remember_filing(filing)
    return json.dumps(
        {"rules": [[getattr(rule, name) for name in _FIELDS] for rule in rules], "filing": filing}
    )


def _unbundle(text: str) -> list[CompiledRule]:
    """The rules of :func:`_bundled` (and its filing made known to the prefilter)."""
    data = json.loads(text)
    remember_filing(data["filing"])
    rules = []
    for values in data["rules"]:
        path, rule_id, title, level, table, condition, names, techniques, error, clauses, lists = (
            values
        )
        rules.append(
            CompiledRule(
                path,
                rule_id,
                title,
                level,
                table,
                condition,
                tuple(names),
                tuple(techniques),
                error,
                None if clauses is None else tuple(map(tuple, clauses)),
                tuple(map(tuple, lists)),
            )
        )
    return rules


def rule_files(path: Path) -> list[Path]:
    """A rule file, or every ``.yml``/``.yaml`` below a folder, in a stable order."""
    if path.is_dir():
        return files_below(path, RULE_SUFFIXES)
    if not path.exists():
        raise LibraryError.single(Location.of(path), "no such rule file or folder", "missing")
    return [path]


RULE_SUFFIXES = frozenset({".yml", ".yaml"})


# Below this many rules to convert, forking costs more than it saves.
FORK_MIN_RULES = 64


def _convert_all(files: Sequence[tuple[Path, bytes, str]]) -> list[CompiledRule | list[Problem]]:
    """Each file's conversion, or the problems that say why it is not a rule."""
    out: list[CompiledRule | list[Problem]] = []
    for path, data, _ in files:
        try:
            out.append(compile_text(data.decode("utf-8", errors="replace"), str(path)))
        except LibraryError as exc:
            out.append(list(exc.problems))
    return out


def _convert(
    files: Sequence[tuple[Path, bytes, str]], workers: int
) -> list[CompiledRule | list[Problem]]:
    """Each file's conversion (or why it is not a rule), in order; on ``workers``
    processes when there are enough (pySigma is loaded first, so children share it)."""
    if workers < 2 or len(files) < FORK_MIN_RULES:
        return _convert_all(files)
    from drillbook.detection.forked import run_forked

    _backend_class()  # import pySigma before forking
    size = -(-len(files) // workers)
    parts = [files[start : start + size] for start in range(0, len(files), size)]
    return [one for part in run_forked(_convert_all, parts) for one in part]


def stat_signature(paths: Sequence[Path]) -> str | None:
    """What the file system says about the rule files (path, size, modification and
    change times, inode), hashed: equal signatures mean unchanged files, so a warm run
    finds its bundle without reading and hashing every file. None when a file cannot be
    stat'ed, or one changed in the last :data:`SETTLE_SECONDS`: a file written again
    within the file system's timestamp granularity could keep its times, so its content
    is hashed until it has settled (what git calls racy files)."""
    digest = hashlib.sha256(f"{BUNDLE_FORMAT}\0{converter_version()}".encode())
    settled = clock.now().timestamp() - SETTLE_SECONDS
    for path in paths:
        try:
            found = os.stat(path)
        except OSError:
            return None
        if max(found.st_mtime, found.st_ctime) > settled:
            return None
        digest.update(
            f"\0{path}\0{found.st_size}\0{found.st_mtime_ns}\0{found.st_ctime_ns}"
            f"\0{found.st_ino}\0{found.st_dev}".encode()
        )
    return digest.hexdigest()


def compile_rules(
    paths: Iterable[Path], cache: ConversionCache | None = None, *, workers: int = 1
) -> tuple[list[CompiledRule], list[Problem]]:
    """Compile rules (from the cache where possible). Files that are not Sigma rules are
    returned as problems; rules the backend cannot express come back with ``error`` set.
    A rule set seen before comes back from its bundle in one read (found by the files'
    stat signature, else by their hashes); rules not in the cache are converted on up
    to ``workers`` processes."""
    cache = cache if cache is not None else ConversionCache()
    paths = list(paths)
    signature = stat_signature(paths) if len(paths) > 1 and cache.path is not None else None
    if signature is not None:
        bundled = cache.bundle(signature, signature=True)
        if bundled is not None:
            return bundled, []
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
        "\0".join([BUNDLE_FORMAT, *_FIELDS, *(f"{path}\0{key}" for path, _, key in files)]).encode()
    ).hexdigest()
    if not problems:
        bundled = cache.bundle(bundle_key)
        if bundled is not None:
            if signature is not None:
                cache.put_signature(signature, bundle_key)
                cache.flush()
            return bundled, problems
    known = {key: cache.get(key) for _, _, key in files}
    missing = [f for f in files if known[f[2]] is None]
    converted = dict(zip((key for _, _, key in missing), _convert(missing, workers), strict=True))
    compiled: list[CompiledRule] = []
    for path, _, key in files:
        found = known[key]
        if found is None:
            outcome = converted[key]
            if isinstance(outcome, list):
                problems.extend(outcome)
                continue
            found = outcome
            cache.put(key, found)
        if found.path != str(path):
            found = replace(found, path=str(path))
        compiled.append(found)
    if not problems and len(compiled) > 1:
        cache.put_bundle(bundle_key, compiled)
        if signature is not None:
            cache.put_signature(signature, bundle_key)
    cache.flush()
    return compiled, problems
