"""Who plays which seat (first seed, "Who attends").

The four seats should be filled by different people: Incident Lead, Comms Lead,
Technical Lead, Observer; a Facilitator is optional; legal and a regulator join when the
scenario (or the regulated variation) lists them. :func:`assign_roles` never refuses: it
returns the plan with warnings, because a tabletop with a doubled seat is still better
than no tabletop, but the organiser should see the gap before the day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drillbook.domain.program.models import Program
from drillbook.domain.scenario.enums import canonical_role
from drillbook.domain.scenario.models import Scenario
from drillbook.errors import ConfigError

CORE_ROLES = ("incident_commander", "comms_lead", "technical_lead", "observer")
OPTIONAL_ROLES = ("facilitator",)
ROLE_LABELS = {
    "incident_commander": "Incident Lead",
    "comms_lead": "Comms Lead",
    "technical_lead": "Technical Lead",
    "observer": "Observer",
    "facilitator": "Facilitator",
    "legal": "Legal counsel",
    "regulator": "Regulator (played)",
}
ROLE_DUTIES = {
    "incident_commander": "Runs the response; authority to make containment calls.",
    "comms_lead": "Drafts the customer and internal messages; authority to send them.",
    "technical_lead": "Opens audit logs, revokes keys, disables agents, rolls back configs.",
    "observer": "Silent. Logs the first three actions and timestamps every decision.",
    "facilitator": "Not on the response team; drops new information on schedule.",
    "legal": "Notification duties, privilege, what may be written down.",
    "regulator": "Plays the authority: asks for the notice when the clock runs out.",
}


def role_label(role: str) -> str:
    return ROLE_LABELS.get(role, role.replace("_", " ").capitalize())


@dataclass(frozen=True)
class RoleSeat:
    role: str
    label: str
    required: bool
    person: str | None
    duties: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "label": self.label,
            "required": self.required,
            "person": self.person,
            "duties": self.duties,
        }


@dataclass(frozen=True)
class RolePlan:
    """Seats in order (core first) and the warnings an organiser should read."""

    seats: list[RoleSeat]
    warnings: list[str] = field(default_factory=list)

    def person_for(self, role: str) -> str | None:
        seat = self.seat(role)
        return seat.person if seat else None

    def seat(self, role: str) -> RoleSeat | None:
        wanted = canonical_role(role)
        return next((s for s in self.seats if s.role == wanted), None)

    def as_dict(self) -> dict[str, Any]:
        return {"seats": [s.as_dict() for s in self.seats], "warnings": list(self.warnings)}


def _seats_needed(scenario: Scenario, extra_roles: tuple[str, ...]) -> dict[str, bool]:
    needed: dict[str, bool] = {role: True for role in CORE_ROLES}
    for participant in scenario.participants:
        role = canonical_role(participant.role)
        needed[role] = needed.get(role, False) or participant.required
    for role in OPTIONAL_ROLES:
        needed.setdefault(role, False)
    for role in extra_roles:
        needed[canonical_role(role)] = True
    return needed


def assign_roles(
    scenario: Scenario,
    assignments: dict[str, str],
    program: Program | None,
    *,
    extra_roles: tuple[str, ...] = (),
) -> RolePlan:
    """Seat people (``assignments``: role -> person id or name) for ``scenario``.

    Warns when one person holds two seats, a required seat is empty, an assignment names a
    role the exercise does not have, or ``drillbook.yaml`` does not list the role for the
    person (``people[].roles``).
    """
    given = {canonical_role(role): person.strip() for role, person in assignments.items()}
    needed = _seats_needed(scenario, extra_roles)
    warnings: list[str] = []
    for role in given:
        if role not in needed:
            warnings.append(
                f"role '{role}' is not part of this exercise; it was added as an extra seat"
            )
            needed[role] = False
    seats = [
        RoleSeat(
            role,
            role_label(role),
            required,
            given.get(role) or None,
            ROLE_DUTIES.get(role, "As the scenario describes."),
        )
        for role, required in needed.items()
    ]
    holders: dict[str, list[str]] = {}
    for seat in seats:
        if seat.person:
            holders.setdefault(seat.person, []).append(seat.label)
        elif seat.required:
            warnings.append(
                f"{seat.label} ({seat.role}) has nobody assigned; pass --role {seat.role}=NAME"
            )
    for person, labels in holders.items():
        if len(labels) > 1:
            warnings.append(
                f"{person} holds {len(labels)} roles ({', '.join(labels)}); the "
                "seed asks for different people in each seat"
            )
    if program is not None:
        for seat in seats:
            if not seat.person:
                continue
            listed = program.person(seat.person) or next(
                (p for p in program.people if p.name == seat.person), None
            )
            if listed is None:
                if program.people:
                    warnings.append(f"{seat.person} is not listed in drillbook.yaml people")
                continue
            can = {canonical_role(r) for r in listed.roles}
            if can and seat.role not in can:
                warnings.append(
                    f"{seat.person} is not listed for {seat.label} in drillbook.yaml "
                    f"(roles: {', '.join(sorted(can))})"
                )
            elif not can:
                warnings.append(f"{seat.person} has no roles in drillbook.yaml people[].roles")
    return RolePlan(seats=seats, warnings=warnings)


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """``['incident_commander=alice', 'observer=bob']`` as a mapping; bad pairs raise."""
    out: dict[str, str] = {}
    for pair in pairs:
        role, sep, person = pair.partition("=")
        if not sep or not role.strip() or not person.strip():
            raise ConfigError(
                f"--role {pair!r}: write ROLE=PERSON, e.g. --role incident_commander=alice"
            )
        out[canonical_role(role)] = person.strip()
    return out
