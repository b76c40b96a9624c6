"""Stored records of the scorecard domain: detection verdicts and human acknowledgements.

One ``detection_results`` row per expected detection per technique run, written when a
drill is checked, so scorecards and the ATT&CK coverage layer are computed from history
instead of re-querying SIEMs. ``detection_acks`` holds acknowledgements recorded with
``drillbook drill ack`` (or imported from an on-call tool).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from drillbook.storage.base import Base, UTCDateTime


class DetectionResultRow(Base):
    __tablename__ = "detection_results"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    drill_run_id: Mapped[str] = mapped_column(String(64), index=True)
    technique_run_id: Mapped[str] = mapped_column(String(64), index=True)
    technique: Mapped[str] = mapped_column(String(200), index=True)
    technique_name: Mapped[str] = mapped_column(Text, default="")
    expected_rule: Mapped[str] = mapped_column(Text)
    rule_title: Mapped[str | None] = mapped_column(Text, nullable=True)
    backend: Mapped[str] = mapped_column(String(40))
    verdict: Mapped[str] = mapped_column(String(20))
    fired: Mapped[bool] = mapped_column(Boolean, default=False)
    fired_severity: Mapped[str | None] = mapped_column(String(20), nullable=True)
    expected_severity: Mapped[str | None] = mapped_column(String(20), nullable=True)
    technique_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    first_alert_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    time_to_alert_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    events_seen: Mapped[int] = mapped_column(Integer, default=0)
    matching_events: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    finding_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DetectionAck(Base):
    __tablename__ = "detection_acks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    drill_run_id: Mapped[str] = mapped_column(String(64), index=True)
    technique: Mapped[str] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    source: Mapped[str] = mapped_column(String(40), default="drillbook")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
