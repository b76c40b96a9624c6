"""The ``incidents`` table: real incidents recorded with ``drillbook incident add``.

The first seed: "After a real incident ... the next tabletop verifies the fixes from the
post-mortem actually changed how the team responds." Each row makes the schedule add a
tabletop for the team, and the second seed's retro integration ("which exercise(s)
covered or didn't cover the scenario") is answered from the exercises run before it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from drillbook.storage.base import Base


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_on: Mapped[date] = mapped_column(index=True)
    title: Mapped[str] = mapped_column(Text)
    team: Mapped[str | None] = mapped_column(String(120), index=True)
    category: Mapped[str | None] = mapped_column(String(60))
    scenario_id: Mapped[str | None] = mapped_column(String(120))
    summary: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str | None] = mapped_column(String(200))

    @property
    def label(self) -> str:
        return f"INC-{self.id}"
