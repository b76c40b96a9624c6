"""The SQLite store's file: damage checks, atomic creation, read-only use, the lock holder.

SQLite keeps the whole store in one file, so what happens to that file decides whether
data survives. Three rules live here:

* A store file is created whole or not at all: the schema is built in a private file next
  to it and linked into place, so a process killed during its very first command never
  leaves a half-built or 0-byte store behind (another process that raced it simply uses
  the one that won).
* A file that exists but is empty or not an SQLite database is reported, never opened for
  writing: SQLite would take a 0-byte file for a new database and a damaged one can be made
  worse. The message names the file and what to do, and the file is left as it was.
* A file or folder we may not write (a read-only checkout, ``chattr +i``) is opened
  read-only, so read-only commands still work and writing ones are refused clearly.

Writers queue on a kernel lock on ``<store>-lock`` (see :class:`WriterQueue`), in which
the holder notes its PID, command and start time; a process that waits too long names
the holder in its message.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from drillbook.errors import StoreError

SQLITE_HEADER = b"SQLite format 3\x00"
NEW_SUFFIX = ".new-"


@dataclass(frozen=True)
class SqliteFile:
    """What we found at a store's path before opening it."""

    path: Path
    exists: bool
    writable: bool


def sqlite_path(url: str) -> Path | None:
    """The file of an SQLite URL (None for memory databases and other dialects)."""
    if not url.startswith("sqlite"):
        return None
    rest = url.split(":///", 1)[1] if ":///" in url else ""
    rest = rest.split("?", 1)[0]
    if not rest or rest == ":memory:":
        return None
    return Path(rest)


def inspect(path: Path) -> SqliteFile:
    """Check the file before SQLite touches it: empty and damaged files are refused here."""
    if not path.exists():
        folder = path.parent
        return SqliteFile(path, exists=False, writable=_folder_writable(folder))
    if path.is_dir():
        raise StoreError(f"{path}: is a folder, not a drillbook store; move it away")
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(
            f"{path}: cannot read the store ({exc.strerror}); check the file's permissions"
        ) from None
    if not header:
        raise StoreError(
            f"{path}: the store is empty (0 bytes), so it holds no drillbook data; if you "
            "expected data, restore the file from a backup, otherwise delete it and "
            "drillbook creates a new store. The file was left as it is."
        )
    if header != SQLITE_HEADER:
        raise damaged(path, "it does not start with the SQLite header")
    writable = os.access(path, os.W_OK) and _folder_writable(path.parent) and not _immutable(path)
    return SqliteFile(path, exists=True, writable=writable)


def damaged(path: Path, detail: str) -> StoreError:
    return StoreError(
        f"{path}: the store is damaged ({detail}); restore it from a backup "
        "(`drillbook db backup` makes one) or move it away to start a new store. "
        "The file was left as it is."
    )


def _folder_writable(folder: Path) -> bool:
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def _immutable(path: Path) -> bool:
    """True for a file the kernel refuses to change (``chattr +i``), which ``os.access``
    does not see: try opening it for writing without changing it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    except PermissionError:
        return True
    except OSError:
        return False
    os.close(fd)
    return False


def read_only_url(found: SqliteFile) -> str:
    """A URL that opens the store without ever writing to it. In a folder we cannot write,
    SQLite could not create its shared-memory file either, so the file is read as
    immutable (nobody can be writing it from here)."""
    folder_ok = _folder_writable(found.path.parent)
    extra = "" if folder_ok else "&immutable=1"
    return f"sqlite:///file:{found.path}?mode=ro{extra}&uri=true"


def use_wal(url: str) -> None:
    """Put a new store in WAL mode (kept in the file): readers never wait for a writer."""
    path = sqlite_path(url)
    connection = sqlite3.connect(path or ":memory:", isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()


def create_atomically(path: Path, build: Callable[[str], None]) -> None:
    """Create the store at ``path`` whole: ``build(url)`` makes the schema in a private
    file, which is then linked into place. Losing the race to another process is fine."""
    _remove_abandoned(path)
    private = path.with_name(f".{path.name}{NEW_SUFFIX}{os.getpid()}")
    for leftover in (private, Path(f"{private}-wal"), Path(f"{private}-shm")):
        leftover.unlink(missing_ok=True)
    try:
        build(f"sqlite:///{private}")
        with contextlib.suppress(FileExistsError):  # another process won: use theirs
            os.link(private, path)
    finally:
        for leftover in (private, Path(f"{private}-wal"), Path(f"{private}-shm")):
            leftover.unlink(missing_ok=True)


def _remove_abandoned(path: Path) -> None:
    """Private files of creators that were killed (their PID is gone)."""
    for leftover in path.parent.glob(f".{path.name}{NEW_SUFFIX}*"):
        pid_text = leftover.name.rsplit(NEW_SUFFIX, 1)[1].split("-", 1)[0]
        if pid_text.isdigit() and not _alive(int(pid_text)):
            leftover.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# -- the writers' queue and the lock holder ----------------------------------------------


def holder_path(path: Path) -> Path:
    return path.with_name(f"{path.name}-lock")


def command_label() -> str:
    """``drillbook exercise decide``: the program and its sub-command words, never the
    arguments (they can hold a note's text or a secret)."""
    words = [Path(sys.argv[0]).name if sys.argv else "drillbook"]
    for word in sys.argv[1:]:
        if word.startswith("-") or len(words) >= 3:
            break
        words.append(word)
    if words[0] in {"__main__.py", "-c", "python", "python3", ""}:
        words[0] = "drillbook"
    return " ".join(words)


class WriterQueue:
    """An exclusive ``flock`` on ``<store>-lock`` that writers take before ``BEGIN
    IMMEDIATE``. SQLite's own busy handler polls with sleeps of up to 100 ms, so twenty
    waiting writers leave the store idle most of the time; a kernel lock is handed over
    the moment it is released. The holder writes its PID, command and start time into
    the lock file, which is what a writer that gave up quotes."""

    def __init__(self, path: Path) -> None:
        self.path = holder_path(path)
        self._fd: int | None = None

    def acquire(self, deadline: float, on_wait: Callable[[], None] | None = None) -> bool:
        """Take the lock before ``deadline`` (a ``time.monotonic()``); False if not."""
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return True  # cannot queue here: SQLite's own lock still keeps writers apart
        pause = 0.001
        tell_at = time.monotonic() + 1.0  # a short wait is normal; say so only past a second
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    return False
                if not told and on_wait is not None and time.monotonic() >= tell_at:
                    on_wait()
                    told = True
                time.sleep(pause)
                pause = min(pause * 2, 0.01)
        self._fd = fd
        record = json.dumps({"pid": os.getpid(), "command": command_label(), "since": time.time()})
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.pwrite(fd, record.encode(), 0)
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None


def describe_holder(path: Path) -> str:
    """``PID 4242, `drillbook exercise decide` since 12 s`` or a plain fallback."""
    try:
        record = json.loads(holder_path(path).read_text())
        pid, command, since = int(record["pid"]), str(record["command"]), float(record["since"])
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"
    if pid == os.getpid() or not _alive(pid):
        # We hold drillbook's queue, or the last drillbook to hold it is gone (its flock
        # went with it): SQLite's own lock is held by something that is not in the queue.
        return "another program (not a drillbook command) using the file"
    return f"PID {pid}, `{command}` since {max(0, round(time.time() - since))} s"


def backup(source: Path, target: Path) -> None:
    """A consistent copy made with SQLite's online backup (safe while others write)."""
    if target.exists():
        raise StoreError(f"{target}: already exists; choose a new file name for the backup")
    inspect(source)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    except sqlite3.DatabaseError as exc:
        target.unlink(missing_ok=True)
        raise damaged(source, str(exc)) from None
    finally:
        src.close()
