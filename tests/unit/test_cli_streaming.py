"""The streamed JSON array is one document whatever the batching: the same bytes as
writing item by item, and it reads back as the list."""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from drillbook.cli.streaming import stream_json_list, stream_json_texts

VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


def _written(write: Any, *args: Any, **kwargs: Any) -> tuple[str, int]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        count = write(*args, **kwargs)
    return out.getvalue(), count


@given(st.lists(VALUES, max_size=12), st.integers(min_value=1, max_value=5))
def test_batched_texts_are_one_array_laid_out_as_the_list(values: list[Any], batch: int) -> None:
    texts = [json.dumps(v, ensure_ascii=False) for v in values]
    batched, count = _written(stream_json_texts, iter(texts), batch=batch)
    listed, _ = _written(stream_json_list, values)
    assert count == len(values)
    assert batched == listed
    assert json.loads(batched) == values
