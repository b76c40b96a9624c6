"""Helpers for tests of the drill sandbox (plain functions, like tests/helpers.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import ROOT, require

# What the sandbox replaces with the technique's own scratch: host files there are simply
# absent inside, so a test of "visible but protected" cannot put its files there.
_PRIVATE_IN_SANDBOX = (Path("/tmp"), Path("/var/tmp"), Path.home())


def _private(path: Path) -> bool:
    resolved = path.resolve()
    return any(resolved.is_relative_to(private.resolve()) for private in _PRIVATE_IN_SANDBOX)


def _host_base() -> Path:
    """$DRILLBOOK_TEST_HOST_DIR, else the checkout, else (a checkout under /tmp, as a CI
    clone may be) a folder under /var/lib, which root can make."""
    configured = os.environ.get("DRILLBOOK_TEST_HOST_DIR")
    if configured:
        return Path(configured)
    for candidate in (ROOT / ".pytest-host", Path("/var/lib/drillbook-test-host")):
        if _private(candidate):
            continue
        try:
            candidate.mkdir(exist_ok=True)
        except OSError:
            continue
        return candidate
    require(False, "no folder outside /tmp, /var/tmp and home to hold host files (set "
            "DRILLBOOK_TEST_HOST_DIR)")  # fmt: skip
    raise AssertionError("unreachable")


@contextlib.contextmanager
def host_folder() -> Iterator[Path]:
    """A folder a contained technique sees as the host's (read-only to it).

    pytest's ``tmp_path`` lives under /tmp, which the sandbox replaces with the technique's
    scratch, so files there are simply absent inside; files that must be *visible but
    protected* go here instead: under the checkout when it is not itself under /tmp, else
    under /var/lib (or $DRILLBOOK_TEST_HOST_DIR)."""
    base = _host_base()
    base.mkdir(exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
