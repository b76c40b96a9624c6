"""Helpers for tests of the drill sandbox (plain functions, like tests/helpers.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import ROOT


@contextlib.contextmanager
def host_folder() -> Iterator[Path]:
    """A folder a contained technique sees as the host's (read-only to it).

    pytest's ``tmp_path`` lives under /tmp, which the sandbox replaces with the technique's
    scratch, so files there are simply absent inside; files that must be *visible but
    protected* go here instead: under the checkout (or $DRILLBOOK_TEST_HOST_DIR)."""
    base = Path(os.environ.get("DRILLBOOK_TEST_HOST_DIR") or ROOT / ".pytest-host")
    base.mkdir(exist_ok=True)
    path = Path(tempfile.mkdtemp(dir=base))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
