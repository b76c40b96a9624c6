"""Settings and library discovery.

Settings come from the environment (prefix ``DRILLBOOK_``) and are declared once, in
:data:`SETTINGS`, so that the docs can be checked against this table by a test.

A *library* is a folder holding ``drillbook.yaml``. Commands find it from ``--library``,
then ``DRILLBOOK_LIBRARY``, then by walking up from the working directory, the way git
finds its repository. Operational data lives in the database: by default an SQLite file
in the library's ``.drillbook/`` folder (which ``init`` adds to ``.gitignore``).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from drillbook.errors import ConfigError

LIBRARY_FILE = "drillbook.yaml"
# beside drillbook.yaml; here (not in the library loader) because the inventory domain reads it
INVENTORY_FILE = "inventory.yaml"
DATA_DIR = ".drillbook"
DATABASE_FILE = "drillbook.db"


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("DRILLBOOK_LIBRARY", "", "Path of the library folder (holds drillbook.yaml)."),
    Setting(
        "DRILLBOOK_DATABASE_URL",
        "",
        "SQLAlchemy URL of the store; default: SQLite in <library>/.drillbook/drillbook.db. "
        "PostgreSQL: postgresql+psycopg://user@host/db.",
    ),
    Setting(
        "DRILLBOOK_STORE_TIMEOUT",
        "30",
        "Seconds to wait for a store another process has locked (SQLite) or that does not "
        "answer (PostgreSQL statement timeout) before giving up with a message.",
    ),
    Setting(
        "DRILLBOOK_TEST_DATABASE_URL",
        "",
        "Tests only: also run the store's tests against this PostgreSQL database.",
    ),
    Setting(
        "DRILLBOOK_ATOMICS_PATH",
        "",
        "Folder of Atomic Red Team atomics; default $HOME/AtomicRedTeam/atomics.",
    ),
    Setting("DRILLBOOK_LLM_URL", "", "OpenAI-compatible endpoint for `scenario generate --llm`."),
    Setting("DRILLBOOK_LLM_MODEL", "", "Model name sent to the LLM endpoint."),
    Setting("DRILLBOOK_LLM_API_KEY", "", "Bearer token for the LLM endpoint (never logged)."),
    Setting("DRILLBOOK_WEBHOOK_URL", "", "Slack-compatible webhook for drill start/end notices."),
    Setting(
        "DRILLBOOK_ALLOWED_HOSTS",
        "",
        "`serve`: comma-separated Host names the web app answers besides loopback "
        "(e.g. drillbook.example.org); any other Host header is refused (DNS rebinding).",
    ),
    Setting(
        "DRILLBOOK_SECURE_COOKIES",
        "",
        "`serve`: 1 to mark session cookies Secure (set it behind an HTTPS proxy); "
        "default: Secure when the request came over HTTPS.",
    ),
)


def setting(name: str) -> str:
    """The value of a declared setting from the environment, or its default."""
    declared = {s.name: s for s in SETTINGS}
    if name not in declared:
        raise KeyError(f"undeclared setting {name}; add it to drillbook.config.SETTINGS")
    return os.environ.get(name, declared[name].default)


def find_library(start: Path | None = None, explicit: Path | str | None = None) -> Path | None:
    """The library folder, or None when there is none here.

    ``explicit`` (from ``--library``) wins, then ``DRILLBOOK_LIBRARY``, then the nearest
    folder at or above ``start`` that holds ``drillbook.yaml``.
    """
    chosen = explicit or setting("DRILLBOOK_LIBRARY")
    if chosen:
        path = Path(chosen).expanduser().resolve()
        if not (path / LIBRARY_FILE).is_file():
            raise ConfigError(
                f"{path}: not a drillbook library (no {LIBRARY_FILE}); "
                "create one with `drillbook init`"
            )
        return path
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / LIBRARY_FILE).is_file():
            return folder
    return None


def require_library(start: Path | None = None, explicit: Path | str | None = None) -> Path:
    found = find_library(start, explicit)
    if found is None:
        raise ConfigError(
            f"no drillbook library at or above {(start or Path.cwd()).resolve()}: "
            "run `drillbook init DIR` or pass --library DIR"
        )
    return found


def database_url(library: Path | None) -> str:
    """The store's URL: ``DRILLBOOK_DATABASE_URL`` or SQLite inside the library."""
    url = setting("DRILLBOOK_DATABASE_URL")
    if url:
        return url
    if library is None:
        raise ConfigError(
            "no database: set DRILLBOOK_DATABASE_URL or run inside a library (`drillbook init`)"
        )
    data = library / DATA_DIR
    with contextlib.suppress(OSError):  # a read-only library: the store opens read-only
        data.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data / DATABASE_FILE}"


def atomics_path(configured: str | None = None) -> Path:
    """Where Atomic Red Team atomics are read from."""
    value = configured or setting("DRILLBOOK_ATOMICS_PATH")
    if value:
        return Path(value).expanduser()
    return Path.home() / "AtomicRedTeam" / "atomics"
