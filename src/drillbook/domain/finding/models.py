"""Tables of the findings backlog.

A finding's id is per-library and sequential (``F-001``): ``finding_counters`` hands out
numbers under a row lock (an ``UPDATE`` serialises concurrent writers on both SQLite and
PostgreSQL) and ``findings.number`` is unique as a second guard. Every status change and
piece of evidence is a :class:`FindingEvent`, so "did it move?" is answered from dates.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from drillbook import clock
from drillbook.domain.finding.enums import EvidenceKind, FindingStatus
from drillbook.storage.base import Base


class Finding(Base):
    __tablename__ = "findings"

    id: Mapped[str] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    severity: Mapped[str]
    description: Mapped[str] = mapped_column(Text)
    proposed_remediation: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None]
    team: Mapped[str | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(index=True)
    change_type: Mapped[str | None]
    capability: Mapped[str | None] = mapped_column(index=True)
    fix_location: Mapped[str | None]
    source: Mapped[str]
    source_ref: Mapped[str | None]
    exercise_id: Mapped[int | None] = mapped_column(index=True)
    rule: Mapped[str | None]
    technique: Mapped[str | None]
    target_date: Mapped[date | None]
    due_date: Mapped[date | None]
    risk_expires: Mapped[date | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    extra: Mapped[dict[str, Any]]
    # Conditional updates: every UPDATE of this row says "WHERE version = <what I read>",
    # so two processes changing it at once cannot both win (see storage.engine).
    version: Mapped[int] = mapped_column(server_default="1")
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it)

    history: Mapped[list[FindingEvent]] = relationship(
        back_populates="finding",
        order_by="(FindingEvent.at, FindingEvent.id)",
        lazy="selectin",
        cascade="all, delete-orphan",
    )

    @property
    def evidence(self) -> list[FindingEvent]:
        """Evidence rows (drill re-runs, links), oldest first."""
        return [e for e in self.history if e.kind == EvidenceKind.EVIDENCE]

    @property
    def status_changes(self) -> list[FindingEvent]:
        return [e for e in self.history if e.kind == EvidenceKind.STATUS]

    @property
    def is_active(self) -> bool:
        """Still owed work. An expired risk acceptance counts as owed again (the SQL twin
        is ``service._active_clause``; keep the two alike)."""
        if self.status == FindingStatus.RISK_ACCEPTED:
            return self.risk_expires is not None and self.risk_expires < clock.today()
        return FindingStatus(self.status).active

    @property
    def overdue(self) -> bool:
        return self.is_active and self.due_date is not None and clock.today() > self.due_date

    @property
    def inferred(self) -> list[str]:
        """Fields drillbook guessed from the text (not written on export)."""
        value = self.extra.get("_inferred", [])
        return [str(v) for v in value] if isinstance(value, list) else []

    @property
    def capability_from(self) -> str | None:
        """Where the capability came from: ``explicit``, ``vocabulary: <words>`` or
        ``scenario: tag <id>`` / ``scenario: category <name>`` (None: unclassified)."""
        if not self.capability:
            return None
        value = self.extra.get("_capability_from")
        if isinstance(value, str):
            return value
        return "vocabulary" if "capability" in self.inferred else "explicit"


class FindingEvent(Base):
    __tablename__ = "finding_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str]
    from_status: Mapped[str | None]
    to_status: Mapped[str | None]
    text: Mapped[str | None] = mapped_column(Text)
    source_ref: Mapped[str | None]
    author: Mapped[str | None]

    finding: Mapped[Finding] = relationship(back_populates="history")


class FindingCounter(Base):
    """The last number handed out, per sequence (``finding``)."""

    __tablename__ = "finding_counters"

    name: Mapped[str] = mapped_column(primary_key=True)
    value: Mapped[int]
