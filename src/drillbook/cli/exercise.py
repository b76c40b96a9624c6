"""Commands: running an exercise: start, phase, inject, decide, note, pause, resume, end, run, report."""

from __future__ import annotations
