"""Stored records of the drill domain (SQLAlchemy tables).

``drill_runs`` (one per ``drill run``), ``technique_runs`` (one per technique in the plan,
refused ones included, so the record says what did *not* run and why), ``journal_entries``
(written before every detonate and cleanup step, so a crashed run's owed cleanups can be
found and run), and ``process_events`` (what the sensor saw, in Sigma field terms).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from drillbook.storage.base import Base, UTCDateTime


class DrillRun(Base):
    __tablename__ = "drill_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    plan_name: Mapped[str] = mapped_column(String(200), index=True)
    plan_path: Mapped[str] = mapped_column(Text)
    target: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    runner_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    runner_host: Mapped[str] = mapped_column(String(255))
    operator: Mapped[str] = mapped_column(String(200))
    safety: Mapped[dict[str, Any]] = mapped_column(JSON)
    abort_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the team whose detections the drill tests; scopes who sees it in the web app
    team: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True, default=None)
    # Conditional updates: every UPDATE of this row says "WHERE version = <what I read>",
    # so two processes changing it at once cannot both win (see storage.engine).
    version: Mapped[int] = mapped_column(server_default="1")
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads it)

    technique_runs: Mapped[list[TechniqueRun]] = relationship(
        back_populates="drill_run",
        order_by="TechniqueRun.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    @property
    def marker(self) -> str:
        """The correlation marker visible in detonation command lines."""
        return f"drillbook-drill-{self.id}"


class TechniqueRun(Base):
    __tablename__ = "technique_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    drill_run_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("drill_runs.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    technique: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(Text)
    executor: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    command: Mapped[str | None] = mapped_column(Text, nullable=True)
    cleanup_command: Mapped[str | None] = mapped_column(Text, nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    timed_out: Mapped[bool] = mapped_column(Boolean, default=False)
    stdout: Mapped[str] = mapped_column(Text, default="")
    stderr: Mapped[str] = mapped_column(Text, default="")
    ran: Mapped[bool] = mapped_column(Boolean, default=False)
    checks: Mapped[list[Any]] = mapped_column(JSON, default=list)
    cleanup_outcome: Mapped[str] = mapped_column(String(20))
    cleanup_exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    cleanup_output: Mapped[str | None] = mapped_column(Text, nullable=True)
    telemetry_captured: Mapped[bool] = mapped_column(Boolean, default=False)
    telemetry_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    expected_detections: Mapped[list[Any]] = mapped_column(JSON, default=list)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    drill_run: Mapped[DrillRun] = relationship(back_populates="technique_runs")


class JournalEntry(Base):
    """Written (and committed) before a step starts; finished after it ends."""

    __tablename__ = "journal_entries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    drill_run_id: Mapped[str] = mapped_column(String(32), index=True)
    technique_run_id: Mapped[str] = mapped_column(String(32), index=True)
    step: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    executor: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    detail: Mapped[str | None] = mapped_column(Text, nullable=True)


class ProcessEvent(Base):
    """One process creation seen during a detonation, in Sigma's field terms."""

    __tablename__ = "process_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    drill_run_id: Mapped[str] = mapped_column(String(32), index=True)
    technique_run_id: Mapped[str] = mapped_column(String(32), index=True)
    technique: Mapped[str] = mapped_column(String(200))
    utc_time: Mapped[datetime] = mapped_column(UTCDateTime())
    process_id: Mapped[int] = mapped_column(Integer)
    parent_process_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    image: Mapped[str] = mapped_column(Text)
    command_line: Mapped[str] = mapped_column(Text)
    parent_image: Mapped[str | None] = mapped_column(Text, nullable=True)
    parent_command_line: Mapped[str | None] = mapped_column(Text, nullable=True)
    user: Mapped[str] = mapped_column(String(200))
    current_directory: Mapped[str | None] = mapped_column(Text, nullable=True)
    is_runner: Mapped[bool] = mapped_column(Boolean, default=False)


class SensorEvent(Base):
    """A file, network or auditd-shaped event of a technique's own processes (strace).

    ``fields`` holds the event as Sigma's rules read it; ``logsource`` is its table and
    ``also`` the further tables whose rules read it (auditd records also go to ``linux``).
    """

    __tablename__ = "sensor_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    drill_run_id: Mapped[str] = mapped_column(String(32), index=True)
    technique_run_id: Mapped[str] = mapped_column(String(32), index=True)
    technique: Mapped[str] = mapped_column(String(200))
    logsource: Mapped[str] = mapped_column(String(80))
    also: Mapped[list[str]] = mapped_column(JSON, default=list)
    utc_time: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
