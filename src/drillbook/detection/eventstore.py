"""The local engine's event tables: SQLite, one table per Sigma log source.

Each table has bookkeeping columns (``_time`` as epoch seconds, indexed; ``_raw`` for
keyword rules; ``_run``, ``_technique_run`` and ``_is_runner`` for attribution) and one
``TEXT COLLATE NOCASE`` column per event field, added on demand. The choices follow
what SQLite does with a Sigma rule:

* Sigma matches strings case-insensitively and SQLite's ``=`` does not, unless the
  column is declared ``COLLATE NOCASE``;
* a rule that names a column the table lacks fails outright, so every field a rule
  references is added (as NULL) before it runs;
* ``REGEXP`` calls a function SQLite does not ship, registered here;
* values are stored as text, so integers beyond 64 bits stay exact.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from drillbook.detection.forked import run_forked
from drillbook.detection.match_lists import MATCH_ANY, match_any, register_lists
from drillbook.detection.prefilter import candidate_rows, has_clauses, rows_by_value
from drillbook.detection.sigma_sqlite import RAW_FIELD, CompiledRule
from drillbook.telemetry.readers.fields import event_time, normalise_name, scalar, table_name

META_COLUMNS = ("_time", RAW_FIELD, "_run", "_technique_run", "_is_runner", "_n", "_tmax")
_META_LOWER = frozenset(c.lower() for c in META_COLUMNS)
_UNSEEN: Any = object()  # an event key not met before
_SKIPPED_KEYS = frozenset({"_technique_run", "_is_runner", "is_runner", RAW_FIELD})
DEFAULT_TABLE = "process_creation"
# SQLite's expression depth limit is 1000; rules are evaluated in batches well below it.
RULES_PER_PASS = 40
# Above this many events in scope, rules with necessary substrings are answered through
# a trigram index first (a drill's window is far smaller and needs no index).
PREFILTER_MIN_ROWS = 5_000
# ... and when enough rules can use it: building the index costs more than a few scans.
PREFILTER_MIN_RULES = 10
# Aggregating, at most this many distinct rows are held per table before being written.
GROUPS_HELD = 5_000
# Below the trigram index's size, rules with necessary substrings are given only the rows
# whose text holds one of them, found in this process (see :func:`candidate_rows`) ...
TEXT_PREFILTER_MIN_ROWS = 64
# ... when enough rules can use it (a handful of rules scan faster than the text is read).
TEXT_PREFILTER_MIN_RULES = 8
# A rule whose own rows are fewer than this share of its pass's rows is guarded by them.
OWN_ROWS_SHARE = 0.8


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _regexp(pattern: str | None, value: Any) -> int:
    if pattern is None or value is None:
        return 0
    compiled = _compiled(pattern)
    return 1 if compiled is not None and compiled.search(str(value)) else 0


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def safe_table(name: str) -> str:
    return table_name(name)


def epoch(moment: datetime) -> float:
    return moment.astimezone(UTC).timestamp()


@dataclass(frozen=True)
class RuleMatch:
    """What one rule matched in the window: how many events, the first and last time."""

    rule: CompiledRule
    count: int
    first_time: datetime | None
    last_time: datetime | None
    sample_rowids: tuple[int, ...]


@dataclass(frozen=True)
class Scope:
    """Which events count: a time window and the drill they are attributed to."""

    start: datetime | None = None
    end: datetime | None = None
    run_id: str | None = None
    technique_run_id: str | None = None
    include_runner: bool = False

    def where(self) -> tuple[str, list[Any]]:
        parts: list[str] = []
        params: list[Any] = []
        if self.start is not None:
            parts.append("_time >= ?")
            params.append(epoch(self.start))
        if self.end is not None:
            parts.append("_time <= ?")
            params.append(epoch(self.end))
        if self.run_id is not None:
            parts.append("_run = ?")
            params.append(self.run_id)
        if self.technique_run_id is not None:
            parts.append("_technique_run = ?")
            params.append(self.technique_run_id)
        if not self.include_runner:
            parts.append("_is_runner = 0")
        return (" AND ".join(parts) or "1"), params


@dataclass
class _Unit:
    """One piece of matching work: a pass over a table for a batch of rules, or one
    rule looked up through the trigram index (``anchored``)."""

    table: str
    rules: list[tuple[int, CompiledRule]]
    anchored: bool
    rows: int
    # the only rows a pass needs to test (they hold a substring of each clause of one of
    # its rules, see :mod:`.prefilter`); None: every row in scope
    rowids: list[int] | None = None
    # per rule (by index), the rows among those that it alone could match
    candidates: dict[int, list[int]] | None = None

    @property
    def cost(self) -> float:
        # rules times rows scanned; an indexed lookup reads few rows
        return self.rows * (0.05 if self.anchored else float(len(self.rules)))


class EventStore:
    """Event tables in one SQLite database (in memory unless a path is given).

    ``workers`` (default 1): how many processes :meth:`match` may use. Two fork a child
    that inherits the database; only for single-threaded callers such as the CLI (a
    forked child of a threaded server could inherit a held lock).
    """

    def __init__(self, path: str = ":memory:") -> None:
        self.conn = sqlite3.connect(path)
        self.workers = 1
        self.conn.create_function("regexp", 2, _regexp, deterministic=True)
        self.conn.create_function(MATCH_ANY, 2, match_any, deterministic=True)
        self._columns: dict[str, dict[str, str]] = {}
        self._keys: dict[str, str | None] = {}
        self._names: dict[str, str] = {}  # lower-case column -> its name as first seen
        self._indexed: dict[str, int] = {}
        # tables some event was routed to (even when a filter kept its rows out)
        self.reached: set[str] = set()
        # columns to create with each table (see _ensure_table)
        self.planned: dict[str, set[str]] = {}
        # Aggregating: rows whose stored values are all equal (bar the time) are kept
        # once, with how many (_n) and their first (_time) and last (_tmax) times. Logs
        # repeat themselves on the fields rules read, so a run stores and scans far
        # fewer rows; times inside the span are lost, so it is for runs with no window.
        self.aggregate = False
        self._groups: dict[str, dict[frozenset[tuple[str, Any]], list[Any]]] = {}
        # the same for rows stored as tuples of values (see store_values), per table
        # and columns: values -> [count, first time, last time]
        self._value_groups: dict[tuple[str, tuple[str, ...]], dict[tuple[Any, ...], list[Any]]] = {}
        self._laid_out: set[tuple[str, tuple[str, ...]]] = set()  # columns ensured
        self.prefilter_min_rows = PREFILTER_MIN_ROWS
        self.index_available = True
        # when set, only these tables hold the full text the trigram index is built from
        self.indexed_only: set[str] | None = None
        # rules with clauses are tested only on rows that could match (see .prefilter)
        self.text_prefilter = True

    def close(self) -> None:
        self.conn.close()

    # -- schema ---------------------------------------------------------------------------

    def tables(self) -> list[str]:
        return sorted(self._columns)

    def _ensure_table(self, table: str) -> dict[str, str]:
        if table in self._columns:
            return self._columns[table]
        # columns known ahead (the fields the loaded rules read) are created with the
        # table: each later ALTER TABLE makes SQLite re-read the whole schema
        planned = {
            n.lower(): n for n in self.planned.get(table, ()) if n.lower() not in _META_LOWER
        }
        extra = "".join(f", {quote(n)} TEXT COLLATE NOCASE" for n in planned.values())
        self.conn.execute(
            f"CREATE TABLE IF NOT EXISTS {quote(table)} ("
            "_time REAL, _raw TEXT COLLATE NOCASE, _run TEXT, _technique_run TEXT, "
            "_is_runner INTEGER NOT NULL DEFAULT 0, _n INTEGER NOT NULL DEFAULT 1, "
            f"_tmax REAL{extra})"
        )
        self.conn.execute(
            f"CREATE INDEX IF NOT EXISTS {quote('ix_' + table + '_time')} ON {quote(table)} (_time)"
        )
        existing = {
            row[1].lower(): row[1]
            for row in self.conn.execute(f"PRAGMA table_info({quote(table)})")
        }
        self._columns[table] = existing
        return existing

    def ensure_columns(self, table: str, names: Iterable[str]) -> None:
        """Add missing columns (SQLite names are case-insensitive, so are these)."""
        columns = self._ensure_table(table)
        for name in names:
            if name.lower() not in columns:
                self.conn.execute(
                    f"ALTER TABLE {quote(table)} ADD COLUMN {quote(name)} TEXT COLLATE NOCASE"
                )
                columns[name.lower()] = name

    # -- ingest ---------------------------------------------------------------------------

    def ingest(
        self,
        events: Iterable[dict[str, Any]],
        *,
        table: str = DEFAULT_TABLE,
        run_id: str | None = None,
        technique_run_id: str | None = None,
        is_runner: bool = False,
        batch: int = 5000,
    ) -> int:
        """Store flat events in ``table``; returns how many. Per-event keys
        ``_technique_run`` and ``_is_runner`` (bool) override the defaults."""
        table = safe_table(table)
        self._ensure_table(table)
        self.reached.add(table)
        total = 0
        chunk: list[dict[str, Any]] = []
        for event in events:
            chunk.append(self.prepare(event, run_id, technique_run_id, is_runner))
            if len(chunk) >= batch:
                total += self.store_rows(table, chunk)
                chunk = []
        if chunk:
            total += self.store_rows(table, chunk)
        self.conn.commit()
        return total

    def _column_for(self, key: str) -> str | None:
        """The (lower-case) column an event key is stored in; None for bookkeeping keys.
        Cached, so each name is normalised once."""
        if key in self._keys:
            return self._keys[key]
        column: str | None = None
        if key not in _SKIPPED_KEYS:
            name = normalise_name(key)
            if name.lower() not in _META_LOWER:
                column = name.lower()
                self._names.setdefault(column, name)
        self._keys[key] = column
        return column

    def prepare(
        self,
        event: dict[str, Any],
        run_id: str | None = None,
        technique_run_id: str | None = None,
        is_runner: bool = False,
        fields: Container[str] | None = None,
        keep_raw: bool = True,
    ) -> dict[str, Any]:
        """One event as a row (lower-case column -> text), ready for any table. With
        ``fields`` only those columns are kept (a run that only matches rules needs no
        other); ``_raw`` (every value, for keyword rules and the trigram prefilter) is
        kept unless ``keep_raw`` is false."""
        row: dict[str, Any] = {}
        texts: list[str] = []
        keys = self._keys
        for key, value in event.items():
            if value is None:
                continue
            known = keys.get(key, _UNSEEN)
            column = self._column_for(key) if known is _UNSEEN else known
            if column is None:
                continue
            if type(value) is not str:
                value = scalar(value)
                if value is None:
                    continue
                value = str(value)
            if keep_raw:
                texts.append(value)
            if fields is None or column in fields:
                row[column] = value
        moment = event_time(event)
        raw = event.get(RAW_FIELD)
        runner = event.get("_is_runner", event.get("is_runner", is_runner))
        row["_time"] = epoch(moment) if moment else None
        # every value is in _raw (the trigram prefilter relies on it), then the raw line
        if keep_raw:
            if raw is not None:
                texts.append(str(raw))
            row["_raw"] = " ".join(texts)
        row["_run"] = run_id
        row["_technique_run"] = event.get("_technique_run", technique_run_id)
        row["_is_runner"] = 1 if runner in (True, 1, "true", "1") else 0
        return row

    def store_rows(self, table: str, rows: Sequence[dict[str, Any]]) -> int:
        """Insert prepared rows (see :meth:`prepare`) into ``table``, adding columns
        (aggregating, rows are grouped until :meth:`flush_groups`)."""
        table = safe_table(table)
        self._ensure_table(table)
        self.reached.add(table)
        if self.aggregate:
            groups = self._groups.setdefault(table, {})
            for row in rows:
                moment = row.get("_time")
                # the row's values bar its time, in any order (a set hashes in C; values
                # are text, numbers or None, and no key is there twice)
                key = frozenset(row.items()) - {("_time", moment)}
                found = groups.get(key)
                if found is None:
                    groups[key] = [row, 1, moment, moment]
                else:
                    found[1] += 1
                    if moment is not None:
                        found[2] = moment if found[2] is None else min(found[2], moment)
                        found[3] = moment if found[3] is None else max(found[3], moment)
            if len(groups) > GROUPS_HELD:
                self._write_groups(table)  # rows that rarely repeat: do not hold them
            return len(rows)
        return self._insert_rows(table, rows)

    def _write_groups(self, table: str) -> None:
        groups = self._groups.pop(table, {})
        rows = [
            {**row, "_n": count, "_time": first, "_tmax": last}
            for row, count, first, last in groups.values()
        ]
        if rows:
            self._insert_rows(table, rows)

    def store_values(
        self, table: str, columns: tuple[str, ...], rows: Sequence[tuple[tuple[Any, ...], Any]]
    ) -> int:
        """Like :meth:`store_rows`, for rows given as ``(values, time)``: the values of
        ``columns`` (lower-case names, None for absent) and the ``_time``. A tuple is
        built and hashed at C speed where a row dict is copied, set up and compared key
        by key, so a run over many events stores them several times faster."""
        table = safe_table(table)
        self._ensure_table(table)
        self.reached.add(table)
        layout = (table, columns)
        if layout not in self._laid_out:
            self.ensure_columns(table, [self._names.get(c, c) for c in columns])
            self._laid_out.add(layout)
        if not self.aggregate:
            self._insert_values(table, (*columns, "_time"), [(*v, m) for v, m in rows])
            return len(rows)
        groups = self._value_groups.setdefault(layout, {})
        for values, moment in rows:
            found = groups.get(values)
            if found is None:
                groups[values] = [1, moment, moment]
            else:
                found[0] += 1
                if moment is not None:
                    found[1] = moment if found[1] is None else min(found[1], moment)
                    found[2] = moment if found[2] is None else max(found[2], moment)
        if len(groups) > GROUPS_HELD:
            self._write_value_groups(layout)
        return len(rows)

    def _write_value_groups(self, layout: tuple[str, tuple[str, ...]]) -> None:
        table, columns = layout
        groups = self._value_groups.pop(layout, {})
        if groups:
            self._insert_values(
                table,
                (*columns, "_n", "_time", "_tmax"),
                [(*values, *counted) for values, counted in groups.items()],
            )

    def _insert_values(
        self, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        names = ", ".join(quote(c) for c in columns)
        marks = ", ".join("?" for _ in columns)
        self.conn.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", rows)

    def flush_groups(self) -> None:
        """Write the grouped rows (one per distinct set of values) and commit. A group
        may be written in parts (see GROUPS_HELD): counts add up, times are min/max."""
        for table in list(self._groups):
            self._write_groups(table)
        for layout in list(self._value_groups):
            self._write_value_groups(layout)
        self.conn.commit()

    def _insert_rows(self, table: str, rows: Sequence[dict[str, Any]]) -> int:
        present: dict[str, None] = {}
        for row in rows:
            present.update(dict.fromkeys(row))
        self.ensure_columns(table, [self._names.get(c, c) for c in present])
        columns = list(present)
        placeholders = ", ".join("?" for _ in columns)
        sql = (
            f"INSERT INTO {quote(table)} ({', '.join(quote(c) for c in columns)}) "
            f"VALUES ({placeholders})"
        )
        self.conn.executemany(sql, [tuple(map(r.get, columns)) for r in rows])
        return len(rows)

    # -- queries --------------------------------------------------------------------------

    def count(self, table: str, scope: Scope) -> int:
        table = safe_table(table)
        if table not in self._columns:
            return 0
        where, params = scope.where()
        row = self.conn.execute(
            f"SELECT COALESCE(SUM(_n), 0) FROM {quote(table)} WHERE {where}", params
        )
        return int(row.fetchone()[0])

    def match(
        self, rules: Sequence[CompiledRule], scope: Scope, *, samples: int = 5
    ) -> list[RuleMatch]:
        """Evaluate ``rules`` over the events in ``scope``: one scan per table and batch
        of rules, each row tested against the batch's predicates. Rules that promise
        substrings are tested only on the rows that hold them: through the trigram index
        for large tables, else through :func:`~.prefilter.candidate_rows`."""
        register_lists(rules)
        by_table: dict[str, list[tuple[int, CompiledRule]]] = {}
        for index, rule in enumerate(rules):
            if rule.usable:
                by_table.setdefault(safe_table(rule.table), []).append((index, rule))
        where, params = scope.where()
        units: list[_Unit] = []
        for table, indexed in by_table.items():
            if table not in self._columns:
                continue
            self.ensure_columns(table, {f for _, r in indexed for f in r.fields})
            scanned = indexed
            anchored = sum(1 for _, r in indexed if has_clauses(r))
            rows = self.count(table, scope)
            if (
                anchored >= PREFILTER_MIN_RULES
                and rows >= self.prefilter_min_rows
                and self.build_index(table)
            ):
                scanned = [(i, r) for i, r in indexed if not has_clauses(r)]
                units.extend(
                    _Unit(table, [(i, r)], True, rows) for i, r in indexed if has_clauses(r)
                )
            elif (
                self.text_prefilter
                and anchored >= TEXT_PREFILTER_MIN_RULES
                and rows >= TEXT_PREFILTER_MIN_ROWS
            ):
                scanned = [(i, r) for i, r in indexed if not has_clauses(r)]
                units.extend(self._prefiltered_units(table, indexed, where, params))
            for start in range(0, len(scanned), RULES_PER_PASS):
                part = scanned[start : start + RULES_PER_PASS]
                units.append(_Unit(table, part, False, rows))
        results: dict[int, RuleMatch] = self._evaluate_split(units, where, params, samples)
        out = []
        for index, rule in enumerate(rules):
            out.append(results.get(index, RuleMatch(rule, 0, None, None, ())))
        return out

    def _prefiltered_units(
        self,
        table: str,
        indexed: Sequence[tuple[int, CompiledRule]],
        where: str,
        params: list[Any],
    ) -> list[_Unit]:
        """Passes for the rules that have clauses, each given only the rows that could
        match one of its rules (a rule no row could match is not evaluated: it matches
        nothing). Rules with similar numbers of candidates share a pass, so a rare rule
        is not tested on the rows a common one needs."""
        anchored = [(i, r) for i, r in indexed if has_clauses(r)]
        stored = [c for c in self._columns[table] if c not in _META_LOWER or c == RAW_FIELD.lower()]
        select = ", ".join(quote(c) for c in stored) or "NULL"
        cursor = self.conn.execute(
            f"SELECT rowid, {select} FROM {quote(table)} WHERE {where}", params
        )
        found = candidate_rows(rows_by_value(cursor), anchored)
        live = sorted((p for p in anchored if p[0] in found), key=lambda p: len(found[p[0]]))
        units = []
        for start in range(0, len(live), RULES_PER_PASS):
            part = live[start : start + RULES_PER_PASS]
            rowids = sorted({rowid for index, _ in part for rowid in found[index]})
            own = {index: found[index] for index, _ in part}
            units.append(_Unit(table, part, False, len(rowids), rowids, own))
        return units

    def _evaluate(
        self, units: Sequence[_Unit], where: str, params: list[Any], samples: int
    ) -> dict[int, RuleMatch]:
        results: dict[int, RuleMatch] = {}
        for unit in units:
            if unit.anchored:
                index, rule = unit.rules[0]
                results[index] = self._match_anchored(unit.table, rule, where, params, samples)
            else:
                results.update(
                    self._match_pass(
                        unit.table,
                        unit.rules,
                        where,
                        params,
                        samples,
                        unit.rowids,
                        unit.candidates,
                    )
                )
        return results

    def _evaluate_split(
        self, units: Sequence[_Unit], where: str, params: list[Any], samples: int
    ) -> dict[int, RuleMatch]:
        """Evaluate ``units`` on two cores when :attr:`workers` allows: a forked child
        (it inherits the in-memory database, copy on write: nothing is copied up front)
        takes about half the work and sends its counts back (see :mod:`.forked`)."""
        if self.workers < 2 or len(units) < 2:
            return self._evaluate(units, where, params, samples)
        sides: list[list[_Unit]] = [[], []]
        load = [0.0, 0.0]
        for unit in sorted(units, key=lambda u: -u.cost):
            side = 0 if load[0] <= load[1] else 1
            sides[side].append(unit)
            load[side] += unit.cost

        def work(part: list[_Unit]) -> dict[int, tuple[Any, ...]]:
            found = self._evaluate(part, where, params, samples)
            return {
                i: (m.count, m.first_time, m.last_time, m.sample_rowids) for i, m in found.items()
            }

        rules = {i: r for unit in units for i, r in unit.rules}
        results: dict[int, RuleMatch] = {}
        for answer in run_forked(work, sides):
            for index, (count, first, last, rowids) in answer.items():
                results[index] = RuleMatch(rules[index], count, first, last, rowids)
        return results

    def build_index(self, table: str) -> bool:
        """Bring the table's trigram index (SQLite FTS5) up to date; False when this SQLite
        has no trigram tokenizer (then every rule is evaluated by a full scan)."""
        table = safe_table(table)
        if not self.index_available or table not in self._columns:
            return False
        if self.indexed_only is not None and table not in self.indexed_only:
            return False
        fts = quote(table + "__fts")
        try:
            self.conn.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} "
                "USING fts5(_raw, content='', tokenize='trigram')"
            )
        except sqlite3.OperationalError:
            self.index_available = False
            return False
        done = self._indexed.get(table, 0)
        top = self.conn.execute(f"SELECT COALESCE(MAX(rowid), 0) FROM {quote(table)}")
        highest = int(top.fetchone()[0])
        if highest > done:
            self.conn.execute(
                f"INSERT INTO {fts} (rowid, _raw) "
                f"SELECT rowid, _raw FROM {quote(table)} WHERE rowid > ?",
                (done,),
            )
            self._indexed[table] = highest
        return True

    def _match_anchored(
        self,
        table: str,
        rule: CompiledRule,
        where: str,
        params: list[Any],
        samples: int,
    ) -> RuleMatch:
        """One rule, evaluated only on the events whose text holds one of its necessary
        substrings (looked up in the trigram index), then by its full predicate."""
        phrase = " OR ".join('"' + a.replace('"', '""') + '"' for a in rule.anchors or ())
        sql = (
            f"SELECT rowid, _time, _n, COALESCE(_tmax, _time) FROM {quote(table)} WHERE rowid IN "
            f"(SELECT rowid FROM {quote(table + '__fts')} WHERE {quote(table + '__fts')} "
            f"MATCH ?) AND {where} AND ({rule.condition}) ORDER BY _time, rowid"
        )
        count, first, last = 0, None, None
        rowids: list[int] = []
        for rowid, moment, weight, latest in self.conn.execute(sql, [phrase, *params]):
            count += weight
            if moment is not None:
                first = moment if first is None else first
                last = latest if last is None else max(last, latest)
            if len(rowids) < samples:
                rowids.append(rowid)
        return RuleMatch(rule, count, _from_epoch(first), _from_epoch(last), tuple(rowids))

    def _match_pass(
        self,
        table: str,
        rules: Sequence[tuple[int, CompiledRule]],
        where: str,
        params: list[Any],
        samples: int,
        rowids: Sequence[int] | None = None,
        candidates: dict[int, list[int]] | None = None,
    ) -> dict[int, RuleMatch]:
        """One scan for up to :data:`RULES_PER_PASS` rules: each row's answers come back
        as one bit mask, so each predicate is evaluated once per row (a ``WHERE`` that
        ORs the predicates would evaluate them again for every row that matches). With
        ``candidates``, a rule's predicate runs only on its own rows (a lookup in a set
        SQLite builds once per pass is far cheaper than most predicates)."""
        terms = []
        arguments: list[Any] = []
        for position, (index, rule) in enumerate(rules):
            own = None if candidates is None or rowids is None else candidates.get(index)
            guard = ""
            if own is not None and len(own) < len(rowids or ()) * OWN_ROWS_SHARE:
                guard = "rowid IN (SELECT value FROM json_each(?)) AND "
                arguments.append(json.dumps(own))
            terms.append(f"(CASE WHEN {guard}({rule.condition}) THEN {1 << position} ELSE 0 END)")
        mask = " + ".join(terms)
        arguments.extend(params)
        only = ""
        if rowids is not None:
            only = " AND rowid IN (SELECT value FROM json_each(?))"
            arguments.append(json.dumps(rowids))
        sql = (
            f"SELECT rowid, _time, _n, COALESCE(_tmax, _time), {mask} FROM {quote(table)} "
            f"WHERE {where}{only} ORDER BY _time, rowid"
        )
        counts = [0] * len(rules)
        first: list[float | None] = [None] * len(rules)
        last: list[float | None] = [None] * len(rules)
        samples_of: list[list[int]] = [[] for _ in rules]
        for rowid, moment, weight, latest, bits in self.conn.execute(sql, arguments):
            while bits:
                low = bits & -bits
                position = low.bit_length() - 1
                bits ^= low
                counts[position] += weight
                if moment is not None:
                    if first[position] is None:
                        first[position] = moment
                    previous = last[position]
                    last[position] = latest if previous is None else max(previous, latest)
                if len(samples_of[position]) < samples:
                    samples_of[position].append(rowid)
        return {
            index: RuleMatch(
                rule,
                counts[position],
                _from_epoch(first[position]),
                _from_epoch(last[position]),
                tuple(samples_of[position]),
            )
            for position, (index, rule) in enumerate(rules)
        }

    def events(self, table: str, rowids: Sequence[int]) -> list[dict[str, Any]]:
        """The stored events with these row ids (for evidence), without empty fields."""
        if not rowids:
            return []
        table = safe_table(table)
        marks = ", ".join("?" for _ in rowids)
        cursor = self.conn.execute(
            f"SELECT * FROM {quote(table)} WHERE rowid IN ({marks}) ORDER BY _time, rowid",
            list(rowids),
        )
        names = [d[0] for d in cursor.description]
        out = []
        for row in cursor:
            event = {
                k: v
                for k, v in zip(names, row, strict=True)
                if v is not None and k not in (RAW_FIELD, "_is_runner", "_n", "_tmax")
            }
            if "_time" in event:
                event["_time"] = _from_epoch(event["_time"])
            out.append(event)
        return out


def _from_epoch(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def dumps_event(event: dict[str, Any]) -> str:
    return json.dumps(event, default=str, sort_keys=True)
