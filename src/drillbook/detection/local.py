"""The embedded default backend: Sigma rules run over recorded events in SQLite.

No SIEM is needed: a drill's recorded process events (or JSON lines, or EVTX files) go
into an :class:`~drillbook.detection.eventstore.EventStore`, the rules are converted by
pySigma (cached by hash) and evaluated in one pass per log source. A rule *fires* when
it matches at least one event in the window; its severity is the rule's ``level``.
"""

from __future__ import annotations

from collections.abc import Collection, Container, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from drillbook.config import DATA_DIR
from drillbook.detection.base import (
    Alert,
    DetectionBackend,
    DetectionResult,
    RuleRef,
    Verdict,
    Window,
)
from drillbook.detection.eventstore import DEFAULT_TABLE, EventStore, RuleMatch, Scope, safe_table
from drillbook.detection.sigma_sqlite import (
    RAW_FIELD,
    CompiledRule,
    ConversionCache,
    compile_rules,
    compile_text,
    rule_files,
)
from drillbook.errors import AdapterError, LibraryError
from drillbook.telemetry.readers.files import ReadReport
from drillbook.telemetry.readers.files import read_events as read_events_stream
from drillbook.telemetry.readers.jsonl import SourcedEvent

CACHE_FILE = "sigma-cache.db"
INGEST_BATCH = 5000


def default_cache_path(library_root: Path | None) -> Path:
    """Under the library's ``.drillbook/`` folder, else the user's cache folder."""
    if library_root is not None:
        return library_root / DATA_DIR / CACHE_FILE
    return Path.home() / ".cache" / "drillbook" / CACHE_FILE


def read_events(
    path: Path, events_format: str = "auto", report: ReadReport | None = None
) -> list[SourcedEvent]:
    """Every event in a file or folder of any supported format (see
    :mod:`drillbook.telemetry.readers.files`), as a list."""
    return list(read_events_stream(path, events_format, report))


class LocalSigmaBackend(DetectionBackend):
    """Sigma over SQLite, in process. Holds the events it was given."""

    name = "local"

    def __init__(
        self,
        store: EventStore | None = None,
        cache: ConversionCache | None = None,
        rules_root: Path | None = None,
    ) -> None:
        self.store = store or EventStore()
        self.cache = cache if cache is not None else ConversionCache()
        self.rules_root = rules_root
        self._by_path: dict[str, CompiledRule] = {}

    @classmethod
    def from_config(
        cls, config: Any = None, *, library_root: Path | None = None, **_: Any
    ) -> LocalSigmaBackend:
        cache_path = default_cache_path(library_root)
        rules_dir = getattr(config, "rules_dir", None)
        rules_root = library_root / rules_dir if (library_root and rules_dir) else library_root
        return cls(cache=ConversionCache(cache_path), rules_root=rules_root)

    def close(self) -> None:
        """Close the event store (its in-memory SQLite database goes with it)."""
        self.store.close()

    # -- events ---------------------------------------------------------------------------

    def ingest(self, events: Iterable[dict[str, Any]], **kwargs: Any) -> int:
        return self.store.ingest(events, **kwargs)

    def ingest_sourced(
        self,
        events: Iterable[SourcedEvent],
        *,
        default_table: str = DEFAULT_TABLE,
        only: Collection[str] | None = None,
        fields: Container[str] | None = None,
        keep_raw: bool = True,
        raw_tables: Container[str] | None = None,
        run_id: str | None = None,
        technique_run_id: str | None = None,
        is_runner: bool = False,
        table_fields: Mapping[str, Collection[str]] | None = None,
    ) -> int:
        """Store each event in every table it is routed to (its row is built once); with
        ``only`` (the tables the loaded rules read), events no rule can match are not
        stored at all, and with ``fields`` only the columns rules read are (with
        ``table_fields``, each table keeps only the columns its own rules read: fewer
        columns to write and more equal rows to aggregate). Returns how many rows were
        stored."""
        wanted = None if only is None else {safe_table(t) for t in only}
        store = self.store
        if table_fields is not None:
            return self._ingest_laid_out(
                events,
                default_table,
                wanted,
                fields,
                keep_raw,
                raw_tables,
                (run_id, technique_run_id, is_runner),
                table_fields,
            )
        tables: dict[str, list[dict[str, Any]]] = {}
        stored = 0
        for item in events:
            names = [safe_table(t) for t in item.tables(default_table)]
            store.reached.update(names)
            if wanted is not None:
                names = [n for n in names if n in wanted]
                if not names:
                    continue
            # the full text only when a table this event goes to keeps it
            raw = keep_raw and (raw_tables is None or any(n in raw_tables for n in names))
            row = store.prepare(
                item.event, run_id, technique_run_id, is_runner, fields=fields, keep_raw=raw
            )
            bare: dict[str, Any] | None = None
            for name in names:
                chunk = tables.setdefault(name, [])
                if raw_tables is None or name in raw_tables or "_raw" not in row:
                    chunk.append(row)
                else:  # this table's rules read no full text: keep rows small (and equal)
                    if bare is None:
                        bare = {k: v for k, v in row.items() if k != "_raw"}
                    chunk.append(bare)
                if len(chunk) >= INGEST_BATCH:
                    stored += store.store_rows(name, chunk)
                    chunk.clear()
        stored += sum(store.store_rows(t, rows) for t, rows in tables.items() if rows)
        store.flush_groups()
        return stored

    def _ingest_laid_out(
        self,
        events: Iterable[SourcedEvent],
        default_table: str,
        wanted: Collection[str] | None,
        fields: Container[str] | None,
        keep_raw: bool,
        raw_tables: Container[str] | None,
        attribution: tuple[str | None, str | None, bool],
        table_fields: Mapping[str, Collection[str]],
    ) -> int:
        """:meth:`ingest_sourced` when each table keeps only its own rules' columns: a
        row is the tuple of those columns' values (see :meth:`EventStore.store_values`),
        taken from the event's prepared row in one step."""
        store = self.store
        # per table, the columns its rows keep: its rules' fields and the bookkeeping
        # ones, with the full text when its rules read it (else rows stay small, and
        # equal rows aggregate)
        meta = ("_run", "_technique_run", "_is_runner")
        layouts: dict[str, tuple[str, ...]] = {}
        for name, own in table_fields.items():
            text = ("_raw",) if raw_tables is None or name in raw_tables else ()
            layouts[name] = (*sorted(set(own) - {"_time", *meta, "_raw"}), *meta, *text)
        pending: dict[str, list[tuple[tuple[Any, ...], Any]]] = {}
        stored = 0
        run_id, technique_run_id, is_runner = attribution
        # per log sources an event names (a log has few kinds of event): the wanted
        # tables it goes to, and whether one of them keeps the full text
        routed: dict[tuple[str, ...], tuple[list[str], bool]] = {}
        for item in events:
            sources = item.tables(default_table)
            known = routed.get(sources)
            if known is None:
                every = [safe_table(t) for t in sources]
                store.reached.update(every)
                names = [n for n in every if wanted is None or n in wanted]
                raw = keep_raw and (raw_tables is None or any(n in raw_tables for n in names))
                known = routed[sources] = (names, raw)
            names, raw = known
            if not names:
                continue
            row = store.prepare(
                item.event, run_id, technique_run_id, is_runner, fields=fields, keep_raw=raw
            )
            moment = row["_time"]
            get = row.get
            for name in names:
                columns = layouts.get(name)
                if columns is None:  # a table no rule named: the whole row
                    stored += store.store_rows(name, [row])
                    continue
                chunk = pending.setdefault(name, [])
                chunk.append((tuple(map(get, columns)), moment))
                if len(chunk) >= INGEST_BATCH:
                    stored += store.store_values(name, columns, chunk)
                    chunk.clear()
        for name, chunk in pending.items():
            if chunk:
                stored += store.store_values(name, layouts[name], chunk)
        store.flush_groups()
        return stored

    def load_for(
        self,
        events: Iterable[SourcedEvent],
        rules: Sequence[CompiledRule],
        *,
        default_table: str = DEFAULT_TABLE,
        large: bool = False,
        aggregate: bool = False,
    ) -> int:
        """Store only what ``rules`` can match: events routed to a table they read, and
        only the columns they name. The full-text column is kept when a keyword rule
        needs it, or for ``large`` inputs whose matching uses the trigram prefilter.
        With ``aggregate`` (a run with no time window), equal rows are stored once with
        their count (see :class:`~drillbook.detection.eventstore.EventStore`)."""
        self.store.aggregate = aggregate
        usable = [r for r in rules if r.usable]
        fields = {f.lower() for r in usable for f in r.fields}
        # the full text: for keyword rules, and for the trigram prefilter of large inputs
        # (aggregated rows need no prefilter, and the text would keep them all distinct)
        keyword = {safe_table(r.table) for r in usable if RAW_FIELD in r.fields}
        use_index = large and not aggregate
        raw_tables = None if use_index else keyword
        keep_raw = use_index or bool(keyword)
        own: dict[str, set[str]] = {}
        for rule in usable:
            self.store.planned.setdefault(safe_table(rule.table), set()).update(rule.fields)
            own.setdefault(safe_table(rule.table), set()).update(f.lower() for f in rule.fields)
        if not use_index:
            self.store.indexed_only = keyword  # the prefilter reads _raw
        return self.ingest_sourced(
            events,
            default_table=default_table,
            only={safe_table(r.table) for r in usable},
            fields=fields,
            keep_raw=keep_raw,
            raw_tables=raw_tables,
            table_fields=own,
        )

    # -- rules ----------------------------------------------------------------------------

    def resolve(self, path: Path) -> Path:
        if path.is_absolute() or self.rules_root is None or path.exists():
            return path
        return self.rules_root / path

    def compile(self, paths: Iterable[Path]) -> list[CompiledRule]:
        compiled, problems = compile_rules(paths, self.cache, workers=self.store.workers)
        if problems:
            raise LibraryError(problems)
        return compiled

    def _by_identity(self, rule: RuleRef) -> CompiledRule | None:
        """A rule named by id or title, looked up among the rules under ``rules_root``."""
        if self.rules_root is None or not self.rules_root.is_dir():
            return None
        wanted = {v.lower() for v in (rule.rule_id, rule.title) if v}
        compiled, _ = compile_rules(rule_files(self.rules_root), self.cache)
        for candidate in compiled:
            names = {v.lower() for v in (candidate.rule_id, candidate.title) if v}
            if names & wanted:
                return candidate
        return None

    def _rule(self, rule: RuleRef) -> CompiledRule:
        if rule.sigma_path is None and (rule.rule_id or rule.title):
            found = self._by_identity(rule)
            if found is not None:
                return found
        if rule.sigma_path is None:
            raise AdapterError(
                self.name,
                "check",
                f"{rule.label}: the local engine needs a Sigma rule file",
                "give expected_detection a sigma_rule path",
            )
        path = self.resolve(rule.sigma_path)
        key = str(path)
        if key not in self._by_path:
            if not path.is_file():
                raise AdapterError(
                    self.name,
                    "check",
                    f"{rule.sigma_path}: no such Sigma rule file",
                    f"the path is read relative to {self.rules_root or 'the working folder'}",
                )
            (self._by_path[key],) = self.compile([path])
        return self._by_path[key]

    def unreached(self, rules: Sequence[CompiledRule]) -> dict[str, int]:
        """Log sources that usable rules read but no event was routed to, with how many
        rules read each (a run says so rather than reporting them as silent)."""
        counts: dict[str, int] = {}
        for rule in rules:
            if rule.usable and safe_table(rule.table) not in self.store.reached:
                counts[rule.table] = counts.get(rule.table, 0) + 1
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    def run(self, rules: Sequence[CompiledRule], scope: Scope) -> list[RuleMatch]:
        return self.store.match(rules, scope)

    # -- the interface --------------------------------------------------------------------

    def check_once(self, rule: RuleRef, window: Window) -> DetectionResult:
        compiled = self._rule(rule)
        scope = Scope(
            start=window.start,
            end=window.end,
            technique_run_id=window.technique_run_id,
            include_runner=window.include_runner,
        )
        seen = self.store.count(compiled.table, scope)
        ref = RuleRef(
            title=rule.title or compiled.title,
            rule_id=rule.rule_id or compiled.rule_id,
            sigma_path=rule.sigma_path,
            query=compiled.readable_condition,
            level=compiled.level,
        )
        if not compiled.usable:
            verdict = Verdict.NOT_FIRED if seen else Verdict.NO_EVENTS
            return DetectionResult(
                verdict,
                ref,
                self.name,
                events_seen=seen,
                detail=f"the rule cannot run on the local engine: {compiled.error}",
            )
        if seen == 0:
            return DetectionResult(
                Verdict.NO_EVENTS,
                ref,
                self.name,
                query=compiled.readable_condition,
                detail=f"no {compiled.table} events in the window: check the telemetry",
            )
        (match,) = self.store.match([compiled], scope)
        if match.count == 0:
            return DetectionResult(
                Verdict.NOT_FIRED,
                ref,
                self.name,
                events_seen=seen,
                matching_events=0,
                query=compiled.readable_condition,
                detail=f"{seen} {compiled.table} events in the window, none matched the rule",
            )
        samples = self.store.events(compiled.table, match.sample_rowids)
        alerts = tuple(
            Alert(time=event["_time"], severity=compiled.level, rule=compiled.title, event=event)
            for event in samples
            if event.get("_time") is not None
        )
        if not alerts and match.first_time is None:
            return DetectionResult(
                Verdict.FIRED,
                ref,
                self.name,
                events_seen=seen,
                matching_events=match.count,
                query=compiled.readable_condition,
                detail="matched events carry no time",
            )
        return DetectionResult(
            Verdict.FIRED,
            ref,
            self.name,
            alerts=alerts,
            events_seen=seen,
            matching_events=match.count,
            query=compiled.readable_condition,
            detail=f"{match.count} of {seen} {compiled.table} events matched",
        )

    def convert(self, rule_text: str) -> str:
        compiled = compile_text(rule_text, "<rule>")
        if not compiled.usable:
            raise AdapterError(self.name, "convert", str(compiled.error))
        return f'SELECT rowid, * FROM "{compiled.table}" WHERE {compiled.readable_condition}'
