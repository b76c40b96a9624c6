"""What the SIEM backends share: an HTTP client that fails with clear, secret-free
messages, and the three-question check every SIEM answers the same way.

A SIEM check asks, in order: (1) did the SIEM raise an alert for the rule in the
window? -> FIRED; (2) otherwise, did any events arrive for the drill? none -> NO_EVENTS;
(3) otherwise NOT_FIRED, and where the Sigma rule converts to the SIEM's language, how
many events the rule's query matches: matching events with no alert point at a muted or
disabled rule, zero matches at a broken query or a changed field.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Self
from urllib.parse import urlsplit

import httpx

from drillbook.detection.base import (
    Alert,
    DetectionBackend,
    DetectionResult,
    RuleRef,
    Verdict,
    Window,
)
from drillbook.errors import AdapterError, ConfigError, LibraryError, Location

if TYPE_CHECKING:
    from drillbook.detection.config import DetectionConfig


def shown_url(url: str) -> str:
    """``url`` fit for an error message: no ``user:password@``, query or fragment."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.hostname:
        return url.split("?", 1)[0]
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{parts.path}"


class ApiClient:
    """httpx with one rule: every failure becomes an :class:`AdapterError` naming the
    system, the call and what to check, with the secret scrubbed from any text."""

    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        headers: Callable[[], dict[str, str]],
        secret_hint: str,
        timeout: float = 30.0,
        verify: bool = True,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.system = system
        self.base_url = base_url.rstrip("/")
        self.where = shown_url(self.base_url)
        self._headers = headers
        self.secret_hint = secret_hint
        self.timeout = timeout
        self._client = httpx.Client(timeout=timeout, verify=verify, transport=transport)
        self._secrets: list[str] = []

    def close(self) -> None:
        self._client.close()

    def remember_secret(self, value: str) -> str:
        if value:
            self._secrets.append(value)
        return value

    def scrub(self, text: str) -> str:
        for value in self._secrets:
            text = text.replace(value, "***")
        return text

    def request(self, call: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        full = url if url.startswith("http") else f"{self.base_url}{url}"
        headers = {**self._headers(), **kwargs.pop("headers", {})}
        try:
            response = self._client.request(method, full, headers=headers, **kwargs)
        except httpx.TimeoutException:
            raise AdapterError(
                self.system,
                call,
                f"no answer within {self.timeout:g} s",
                f"that {self.where} is reachable, or raise timeout_seconds",
            ) from None
        except httpx.TransportError as exc:
            raise AdapterError(
                self.system,
                call,
                f"cannot connect to {self.where}: {type(exc).__name__}",
                "the url in drillbook.yaml and the network path to it",
            ) from None
        if response.status_code in (401, 403):
            raise AdapterError(
                self.system,
                call,
                f"authentication failed (HTTP {response.status_code})",
                self.secret_hint,
            )
        if response.status_code >= 400:
            body = self.scrub(response.text[:300].strip())
            raise AdapterError(
                self.system,
                call,
                f"HTTP {response.status_code}: {body}",
                "the query and the index/workspace names in drillbook.yaml",
            )
        return response

    def json(self, call: str, method: str, url: str, **kwargs: Any) -> Any:
        response = self.request(call, method, url, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise AdapterError(
                self.system, call, "the answer is not JSON", "that the url points at the API"
            ) from None


@contextmanager
def answer_shape(system: str, call: str) -> Iterator[None]:
    """Turn a surprise in an answer's shape (a list where an object was documented, a
    count that is not a number) into one clear error instead of a traceback."""
    try:
        yield
    except (AttributeError, TypeError, KeyError, ValueError, IndexError) as exc:
        raise AdapterError(
            system,
            call,
            f"unexpected answer shape ({type(exc).__name__}: {exc})",
            f"that the url points at the {system} API and the API version is supported",
        ) from None


def rules_base(config: Any, library_root: Path | None) -> Path | None:
    """Where relative ``sigma_rule`` paths start: ``rules_dir`` inside the library."""
    rules_dir = getattr(config, "rules_dir", None)
    if library_root is not None and rules_dir:
        return library_root / str(rules_dir)
    return library_root


def read_rule_text(rule: RuleRef, rules_root: Path | None) -> str | None:
    if rule.sigma_path is None:
        return None
    path = rule.sigma_path
    if not path.is_absolute() and rules_root is not None and not path.exists():
        path = rules_root / path
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        raise LibraryError.single(Location.of(path), "cannot read the Sigma rule") from None


def rule_identity(rule: RuleRef, rules_root: Path | None) -> RuleRef:
    """Fill title, id and level from the Sigma file, so alerts can be found by name."""
    text = read_rule_text(rule, rules_root)
    if text is None or (rule.title and rule.level):
        return rule
    from drillbook.detection.sigma_sqlite import compile_text

    meta = compile_text(text, str(rule.sigma_path))
    return RuleRef(
        title=rule.title or meta.title,
        rule_id=rule.rule_id or meta.rule_id,
        sigma_path=rule.sigma_path,
        query=rule.query,
        level=rule.level or meta.level,
    )


class SiemBackend(DetectionBackend):
    """A SIEM that raises alerts: find them, else tell missing logs from a silent rule.

    Subclasses name their ``drillbook.yaml`` section by ``name`` (``detection.<name>``)
    and list its required keys in ``section_keys`` for the error when it is missing."""

    rules_root: Path | None = None
    library_root: Path | None = None  # pipeline files are read relative to it
    section_keys: ClassVar[str] = "url"
    client: ApiClient  # set by each subclass

    def __init__(
        self,
        config: Any,
        *,
        rules_root: Path | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self.rules_root = rules_root

    def close(self) -> None:
        client = getattr(self, "client", None)
        if client is not None:
            client.close()

    @classmethod
    def from_config(
        cls,
        config: DetectionConfig,
        *,
        library_root: Path | None = None,
        transport: httpx.BaseTransport | None = None,
        **_: Any,
    ) -> Self:
        section = getattr(config, cls.name, None)
        if section is None:
            raise ConfigError(
                f"{cls.name}: add a detection.{cls.name} section ({cls.section_keys})"
            )
        backend = cls(section, rules_root=rules_base(config, library_root), transport=transport)
        backend.library_root = library_root
        return backend

    def pipeline(self) -> Any:
        """The pySigma pipeline this backend converts through (``pipelines`` in its
        section of ``drillbook.yaml``, else the backend's default)."""
        from drillbook.detection.pipelines import build

        names = getattr(getattr(self, "config", None), "pipelines", None)
        return build(self.name, names, getattr(self, "library_root", None))

    @abstractmethod
    def find_alerts(self, rule: RuleRef, window: Window) -> list[Alert]:
        """The SIEM's own alerts for the rule in the window."""

    @abstractmethod
    def count_events(self, window: Window) -> int:
        """How many events arrived in the window (any events tied to the drill)."""

    def native_query(self, rule: RuleRef) -> str | None:
        """The rule as the SIEM's query language, or None when it cannot be converted."""
        return self.query_or_error(rule)[0]

    def query_or_error(self, rule: RuleRef) -> tuple[str | None, str | None]:
        """The rule's native query, or why it could not be converted (a verdict says so
        rather than blaming the SIEM for a missing alert)."""
        if rule.query:
            return rule.query, None
        text = read_rule_text(rule, self.rules_root)
        if text is None:
            return None, None
        try:
            return self.convert(text), None
        except AdapterError as exc:
            return None, exc.detail

    def count_matching(self, query: str, window: Window) -> int | None:
        return None

    def check_once(self, rule: RuleRef, window: Window) -> DetectionResult:
        rule = rule_identity(rule, self.rules_root)
        with answer_shape(self.name, "search alerts"):
            alerts = self.find_alerts(rule, window)
        if alerts:
            return DetectionResult(
                Verdict.FIRED,
                rule,
                self.name,
                alerts=tuple(sorted(alerts, key=lambda a: a.time)),
                detail=f"{len(alerts)} alert(s) for '{rule.title}'",
            )
        with answer_shape(self.name, "count events"):
            seen = self.count_events(window)
        if seen == 0:
            return DetectionResult(
                Verdict.NO_EVENTS,
                rule,
                self.name,
                detail="no events arrived in the window: check the log pipeline",
            )
        query, failure = self.query_or_error(rule)
        with answer_shape(self.name, "run the rule's query"):
            matching = self.count_matching(query, window) if query else None
        if failure is not None:
            why = (
                f"no alert, and the rule could not be converted for {self.name}: {failure} "
                "(check its pipelines in drillbook.yaml, or give a native query)"
            )
        elif matching:
            why = (
                f"the rule's query matches {matching} event(s) but no alert was raised: "
                "is the rule enabled (not muted)?"
            )
        elif matching == 0:
            why = "no event matches the rule's query: check the query and its field names"
        else:
            why = "no alert for the rule"
        return DetectionResult(
            Verdict.NOT_FIRED,
            rule,
            self.name,
            events_seen=seen,
            matching_events=matching,
            query=query,
            detail=f"{seen} event(s) arrived; {why}",
        )


def dig(document: Any, dotted: str) -> Any:
    """``a.b.c`` from nested objects or from flattened dotted keys (Elastic writes both)."""
    if isinstance(document, dict) and dotted in document:
        return document[dotted]
    head, _, rest = dotted.partition(".")
    if not rest:
        return document.get(head) if isinstance(document, dict) else None
    if isinstance(document, dict):
        for key in document:
            if dotted.startswith(key + "."):
                found = dig(document[key], dotted[len(key) + 1 :])
                if found is not None:
                    return found
    return None


def convert_with(
    system: str, module: str, cls: str, rule_text: str, pipeline: Any = None, **kwargs: Any
) -> str:
    """Convert with a pySigma backend through ``pipeline`` (a pySigma processing pipeline
    or None); a missing extra or an unsupported rule is one message."""
    import importlib

    try:
        backend_cls = getattr(importlib.import_module(module), cls)
    except ImportError:
        raise AdapterError(
            system, "convert", f"{module} is not installed", f"pip install 'drillbook[{system}]'"
        ) from None
    from sigma.collection import SigmaCollection
    from sigma.exceptions import SigmaError

    if pipeline is not None:
        kwargs["processing_pipeline"] = pipeline
    try:
        queries = backend_cls(**kwargs).convert(SigmaCollection.from_yaml(rule_text))
    except (SigmaError, NotImplementedError, ValueError, TypeError, KeyError) as exc:
        raise AdapterError(
            system, "convert", str(exc), "whether the rule uses features the backend supports"
        ) from None
    if not queries:
        raise AdapterError(system, "convert", "the rule converted to no query")
    return " OR ".join(f"({q})" for q in queries) if len(queries) > 1 else str(queries[0])
