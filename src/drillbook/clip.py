"""Shortening text for a narrow place (a table cell, a status line) without lying about it.

A cut is made at a word boundary and always ends in an ellipsis, so a reader knows there is
more; ``--full`` or ``--json`` on the command gives the whole text.
"""

from __future__ import annotations

ELLIPSIS = "…"


def clip(text: str | None, width: int) -> str:
    """``text`` on one line, at most ``width`` characters, cut between words with ``…``."""
    flat = " ".join((text or "").split())
    if len(flat) <= width:
        return flat
    room = max(width - len(ELLIPSIS), 1)
    cut = flat[:room]
    space = cut.rfind(" ")
    if space >= room // 2:  # a word boundary not too far back
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + ELLIPSIS
