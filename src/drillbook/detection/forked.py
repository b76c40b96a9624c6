"""Work spread over forked processes: the CLI's way to use both cores.

Converting thousands of Sigma rules and matching them over many events are CPU-bound
Python loops, so threads would not help. A forked child inherits everything already
loaded (pySigma, the in-memory event database) copy-on-write, so nothing is sent to
it up front; it sends back its answer, pickled, through a pipe that only this process
reads. Only for single-threaded callers such as the CLI: a forked child of a threaded
server could inherit a lock some other thread holds.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
from collections.abc import Callable, Sequence
from typing import TypeVar

Part = TypeVar("Part")
Answer = TypeVar("Answer")


def run_forked(work: Callable[[Part], Answer], parts: Sequence[Part]) -> list[Answer]:
    """``[work(part) for part in parts]``: every part but the first in a forked child,
    the first here, at the same time. The answers are those of one process; a child
    that fails, or a system that cannot fork, has its part done here instead."""
    if len(parts) < 2 or not hasattr(os, "fork"):
        return [work(part) for part in parts]
    # Everything alive now (rules, modules) lives on: leave it out of the cyclic garbage
    # collector's passes while the work runs. Collections then walk only the work's own
    # objects (a tenth of a warm run went to walking the rest), and a child's
    # collections do not write to the parent's pages it shares copy-on-write.
    gc.freeze()
    try:
        received, answers = _fork_and_work(work, parts)
        for part, sent in zip(parts[1:], received, strict=True):
            # read only from a child this process forked, through its own pipe
            answers.append(work(part) if sent is None else pickle.loads(sent))
        return answers
    finally:
        gc.unfreeze()


def _fork_and_work(
    work: Callable[[Part], Answer], parts: Sequence[Part]
) -> tuple[list[bytes | None], list[Answer]]:
    """Fork a child per part but the first, do the first here; each child's pickled
    answer, or None for a child that failed, and this process's answer."""
    children: list[tuple[int, int]] = []
    try:
        for part in parts[1:]:
            read_end, write_end = os.pipe()
            child = os.fork()
            if child == 0:  # pragma: no cover - runs in the forked child
                code = 1
                try:
                    os.close(read_end)
                    answer = work(part)
                    with os.fdopen(write_end, "wb") as out:
                        pickle.dump(answer, out, protocol=pickle.HIGHEST_PROTOCOL)
                    code = 0
                finally:
                    os._exit(code)  # no atexit handlers, no flushing the parent's buffers
            os.close(write_end)
            children.append((child, read_end))
        answers = [work(parts[0])]
    except BaseException:
        for child, _ in children:  # this part failed (or Ctrl-C): theirs are not wanted
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        raise
    finally:
        received: list[bytes | None] = []
        for child, read_end in children:
            with os.fdopen(read_end, "rb") as incoming:
                data = incoming.read()
            _, status = os.waitpid(child, 0)
            ok = os.waitstatus_to_exitcode(status) == 0 and bool(data)
            received.append(data if ok else None)
    return received, answers
