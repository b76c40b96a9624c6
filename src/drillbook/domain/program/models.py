"""``drillbook.yaml``: the organisation's rehearsal program.

Who is in it (teams, people and the roles they can fill), how fast findings must close
(SLA by severity), how often exercises run (cadence), and how drillbook talks to the
outside (detection backend, trackers, notifications). Sections for adapters stay loose
mappings here; each adapter validates its own section.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from drillbook.documents.durations import DurationText, parse_duration
from drillbook.documents.yaml_io import problem_at
from drillbook.errors import Problem


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Team(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    name: str | None = None
    lead: str | None = Field(default=None, description="Person id of the team's lead.")
    channel: str | None = Field(default=None, description="Where the team talks, e.g. #sre.")
    escalation_contact: str | None = Field(
        default=None, description="Who hears about overdue findings (engineering manager)."
    )


class Person(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    name: str | None = None
    email: str | None = None
    team: str | None = None
    roles: list[str] = Field(
        default_factory=list, description="Exercise roles this person can fill."
    )
    joined: date | None = Field(
        default=None,
        description="Start date (YYYY-MM-DD); the onboarding signal checks two tabletops "
        "in the first 90 days from it.",
    )


class SlaPolicy(_Strict):
    """Days to close a finding, by severity. Defaults follow DefectDojo's."""

    critical: DurationText = "7d"
    high: DurationText = "30d"
    medium: DurationText = "90d"
    low: DurationText = "120d"

    def days(self, severity: str) -> int:
        value = getattr(self, str(severity))
        return int(parse_duration(value).total_seconds() // 86400)


class Cadence(_Strict):
    tabletop_every: DurationText = Field(default="13w", description="One tabletop per quarter.")
    drill_every: DurationText = "13w"
    report_within: DurationText = Field(default="48h", description="Report deadline (seed).")
    followup_after: DurationText = Field(default="30d", description="Fix-list follow-up.")
    review_library_every: DurationText = Field(
        default="13w", description="A scenario not reviewed for longer is flagged as stale."
    )


class Program(_Strict):
    organisation: str = Field(min_length=1)
    description: str | None = None
    teams: list[Team] = Field(default_factory=list)
    people: list[Person] = Field(default_factory=list)
    sla: SlaPolicy = Field(default_factory=SlaPolicy)
    cadence: Cadence = Field(default_factory=Cadence)
    atomics_path: str | None = None
    detection: dict[str, Any] = Field(default_factory=dict)
    trackers: dict[str, Any] = Field(default_factory=dict)
    notify: dict[str, Any] = Field(default_factory=dict)
    llm: dict[str, Any] = Field(default_factory=dict)

    def reference_problems(self, path: Path, document: Any) -> list[Problem]:
        """Duplicate ids and dangling team names, each located in ``document`` (the file as
        read). Not a model validator: pydantic would stop at the first one and could only
        point at the top of the file."""
        found: list[Problem] = []
        team_ids = {t.id for t in self.teams}
        for section, ids in (
            ("teams", [t.id for t in self.teams]),
            ("people", [p.id for p in self.people]),
        ):
            for index, item_id in enumerate(ids):
                if item_id in ids[:index]:
                    message = (
                        f"{section}[{index}]: duplicate id '{item_id}' "
                        f"(also {section}[{ids.index(item_id)}])"
                    )
                    found.append(
                        problem_at(path, document, (section, index, "id"), message, "duplicate-id")
                    )
        for index, person in enumerate(self.people):
            if person.team and team_ids and person.team not in team_ids:
                message = (
                    f"people[{index}]: {person.id} is in team '{person.team}', which teams "
                    f"does not list (listed: {', '.join(sorted(team_ids))})"
                )
                found.append(
                    problem_at(path, document, ("people", index, "team"), message, "unknown-team")
                )
        return found

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)

    def team(self, team_id: str) -> Team | None:
        return next((t for t in self.teams if t.id == team_id), None)
