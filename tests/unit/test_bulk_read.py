"""bulk_read pauses the cyclic collector and puts it back as it was."""

from __future__ import annotations

import gc

import pytest

from drillbook.storage.bulk import bulk_read


def test_bulk_read_restores_the_collector_even_on_error() -> None:
    assert gc.isenabled()
    with bulk_read():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), bulk_read():
        raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    try:
        with bulk_read():
            pass
        assert not gc.isenabled()  # it was off before: stays off
    finally:
        gc.enable()
