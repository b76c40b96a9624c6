"""Tables of an exercise run: the run itself and its append-only timeline.

The timeline is the record: every state change, phase change, inject, decision,
observation, note and role assignment is one :class:`ExerciseEvent` row. Nothing about a
live exercise (clock, phase, next inject) is kept anywhere else, so a crashed or killed
process loses nothing: :mod:`drillbook.domain.exercise.timeline` derives it all again.
The scenario is snapshotted on the run, so editing the library later does not rewrite
what happened.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from drillbook.storage.base import Base


class Exercise(Base):
    __tablename__ = "exercises"

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[str] = mapped_column(index=True)
    title: Mapped[str]
    team: Mapped[str | None] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(index=True)
    run_date: Mapped[date]
    created_at: Mapped[datetime]
    scenario_document: Mapped[dict[str, Any] | None]
    participants: Mapped[list[Any]]
    next_actions: Mapped[list[Any]]
    next_tabletop: Mapped[date | None]
    reported_at: Mapped[datetime | None]
    # Conditional updates: every UPDATE of this row says "WHERE version = <what I read>",
    # so two processes changing it at once cannot both win (see storage.engine).
    version: Mapped[int] = mapped_column(server_default="1")
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it)

    events: Mapped[list[ExerciseEvent]] = relationship(
        back_populates="exercise",
        order_by="(ExerciseEvent.at, ExerciseEvent.id)",
        lazy="selectin",
        cascade="all, delete-orphan",
    )

    @property
    def label(self) -> str:
        return f"EX-{self.id}"


class ExerciseEvent(Base):
    """One line of the timeline. ``phase`` is the phase current when it was logged."""

    __tablename__ = "exercise_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    exercise_id: Mapped[int] = mapped_column(ForeignKey("exercises.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str]
    author: Mapped[str | None]
    role: Mapped[str | None]
    phase: Mapped[str | None]
    text: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]]

    exercise: Mapped[Exercise] = relationship(back_populates="events")
