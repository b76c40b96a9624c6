"""Tables that belong to no single domain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from drillbook.storage.base import Base


class ScenarioRevision(Base):
    """Each distinct content of a scenario seen by the tool, with when it was first seen.

    Lets lint tell a scenario that has not changed while its findings keep repeating (the
    seed's "tabletop becomes theatre" failure mode).
    """

    __tablename__ = "scenario_revisions"
    __table_args__ = (UniqueConstraint("scenario_id", "content_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scenario_id: Mapped[str] = mapped_column(String(120), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    first_seen: Mapped[datetime]


class StoreMeta(Base):
    """Facts about the store itself, as key/value rows: which drillbook last changed the
    schema (``schema_written_by``) and the newest drillbook that wrote to it
    (``newest_writer``). A drillbook older than the store reads them to say which version
    to upgrade to instead of failing on a migration it does not know."""

    __tablename__ = "store_meta"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
