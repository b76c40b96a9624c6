"""The first seed's "Variations & edge cases", as plan options.

- Distributed team: run by video, add 15 minutes (typing is slower than talking), breakout
  rooms for the Comms Lead and Technical Lead to work in parallel.
- First tabletop ever: pick the gentlest scenario and lengthen the time-box to 90 minutes.
- Multi-product company: scope the tabletop to one product.
- Regulated industry: add a regulator role and rehearse the notification clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from drillbook.domain.scenario.models import Scenario
from drillbook.planning.regulatory import Jurisdiction

DISTRIBUTED_EXTRA_MINUTES = 15
FIRST_TABLETOP_MINUTES = 90
BREAKOUT_ROLES = ("comms_lead", "technical_lead")
DEFAULT_JURISDICTIONS = (Jurisdiction.GDPR,)


@dataclass(frozen=True)
class Variations:
    """What the organiser asked for; all off by default."""

    duration_minutes: int | None = None
    distributed: bool = False
    first_tabletop: bool = False
    regulated: bool = False
    jurisdictions: tuple[Jurisdiction, ...] = ()
    product: str | None = None
    product_agents: tuple[str, ...] = field(default=())

    @property
    def chosen_jurisdictions(self) -> tuple[Jurisdiction, ...]:
        """The jurisdictions whose clocks go on the timeline (GDPR when none was named)."""
        if not self.regulated and not self.jurisdictions:
            return ()
        return self.jurisdictions or DEFAULT_JURISDICTIONS

    @property
    def is_regulated(self) -> bool:
        return self.regulated or bool(self.jurisdictions)

    def extra_roles(self) -> tuple[str, ...]:
        return ("regulator",) if self.is_regulated else ()

    def applied(self) -> list[str]:
        """One line per variation in effect, for the script's header."""
        lines = []
        if self.first_tabletop:
            lines.append(
                f"First tabletop: time-box lengthened to {FIRST_TABLETOP_MINUTES} "
                "minutes; the first one is mostly about establishing the format."
            )
        if self.distributed:
            lines.append(
                f"Distributed team: +{DISTRIBUTED_EXTRA_MINUTES} minutes for typing "
                "over video; breakout rooms for the Comms Lead and Technical Lead."
            )
        if self.is_regulated:
            names = ", ".join(j.value for j in self.chosen_jurisdictions)
            lines.append(
                f"Regulated industry: a regulator role joins and the notification "
                f"clocks ({names}) are on the timeline."
            )
        if self.product:
            lines.append(f"Multi-product company: scoped to {self.product} only.")
        return lines


def planned_duration(scenario: Scenario, variations: Variations) -> int:
    """Minutes of the session: the scenario's (or ``--duration``), at least 90 for a first
    tabletop, plus 15 for a distributed team."""
    minutes = variations.duration_minutes or round(scenario.duration_minutes)
    if variations.first_tabletop:
        minutes = max(minutes, FIRST_TABLETOP_MINUTES)
    if variations.distributed:
        minutes += DISTRIBUTED_EXTRA_MINUTES
    return minutes


def gentlest_scenario(scenarios: Iterable[Scenario]) -> Scenario | None:
    """The scenario a first tabletop should use: lowest difficulty, wrong-team exposure
    first among equals, then by id so the answer is stable."""
    return min(scenarios, key=lambda s: (*s.gentleness, s.id), default=None)


def scope_statement(variations: Variations) -> str | None:
    if not variations.product:
        return None
    text = (
        f"This session is scoped to {variations.product}. Other products are out of "
        "scope: note questions about them for a later session, do not chase them now."
    )
    if variations.product_agents:
        text += " Agents in play: " + ", ".join(variations.product_agents) + "."
    return text
