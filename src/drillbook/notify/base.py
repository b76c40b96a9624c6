"""The notifier interface: tell people a drill started and ended.

The seed's safety profile says who hears about a drill (``notification:``); a notifier is
how the message reaches them. A start notice that cannot be delivered stops the drill
before anything runs (nobody knows a drill is on, so real paging would follow).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal


@dataclass(frozen=True)
class DrillNotice:
    """What a start or end notice says."""

    phase: Literal["start", "end"]
    run_id: str
    plan_name: str
    target: str
    at: datetime
    marker: str
    audience: list[str] = field(default_factory=list)
    blast_radius: str | None = None
    status: str | None = None
    summary: dict[str, int] = field(default_factory=dict)
    abort_reason: str | None = None

    def text(self) -> str:
        stamp = self.at.strftime("%Y-%m-%d %H:%M:%S UTC")
        if self.phase == "start":
            lines = [
                f":rotating_light: Security drill *{self.plan_name}* STARTED at {stamp} "
                f"on {self.target}.",
                f"Drill id `{self.run_id}`; processes carry `{self.marker}` and "
                f"DRILLBOOK_DRILL_ID={self.run_id}. Suppress paging for alerts that carry it.",
            ]
            if self.blast_radius:
                lines.append(f"Blast radius: {self.blast_radius.strip()}")
        else:
            counts = ", ".join(f"{k}: {v}" for k, v in sorted(self.summary.items()))
            lines = [
                f":white_check_mark: Security drill *{self.plan_name}* ENDED at {stamp} "
                f"({self.status}). Drill id `{self.run_id}`.",
                f"Techniques: {counts or 'none'}",
            ]
            if self.abort_reason:
                lines.append(f"Aborted: {self.abort_reason}")
        lines += [f"Notify: {who}" for who in self.audience]
        return "\n".join(lines)


class Notifier(ABC):
    name: str = "notifier"

    @abstractmethod
    def send(self, notice: DrillNotice) -> None:
        """Deliver ``notice``; raise AdapterError when it cannot be delivered."""


class NoNotifier(Notifier):
    """Used when no webhook is configured; the run record still says so."""

    name = "none"

    def send(self, notice: DrillNotice) -> None:
        return None
