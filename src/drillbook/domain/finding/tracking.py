"""Tables that tie findings to the outside: tracker issues and sent notices.

:class:`TrackerLink` is a finding's issue in one configured tracker, with the values both
sides last agreed on (status class, owner, due date). Sync compares each side with that
base: only one side moved -> the move is copied; both moved -> a conflict is reported and
nothing is overwritten.

:class:`SentNotice` is the escalation ledger: one row per (finding, notice, recipient),
unique, so a reminder or escalation is sent once however often ``drillbook escalate``
runs from cron.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from drillbook.storage.base import Base


class TrackerLink(Base):
    __tablename__ = "finding_tracker_links"
    __table_args__ = (UniqueConstraint("finding_id", "tracker"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.id"), index=True)
    tracker: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None]
    remote_id: Mapped[str | None]
    synced_state: Mapped[str | None]
    synced_owner: Mapped[str | None]
    synced_due: Mapped[date | None]
    synced_at: Mapped[datetime]


class SentNotice(Base):
    __tablename__ = "finding_notices"
    __table_args__ = (UniqueConstraint("finding_id", "notice", "recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    finding_id: Mapped[str] = mapped_column(ForeignKey("findings.id"), index=True)
    notice: Mapped[str] = mapped_column(String(80))
    recipient: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(40))
    due_date: Mapped[date | None]
    sent_at: Mapped[datetime]


def links_by_finding(session: Session, finding_ids: Iterable[str]) -> dict[str, list[TrackerLink]]:
    """Each finding's tracker issues, by finding id (reports, the web board, ``show``)."""
    wanted = list(finding_ids)
    found: dict[str, list[TrackerLink]] = {}
    if not wanted:
        return found
    for link in session.scalars(
        select(TrackerLink)
        .where(TrackerLink.finding_id.in_(wanted))
        .order_by(TrackerLink.finding_id, TrackerLink.tracker)
    ):
        found.setdefault(link.finding_id, []).append(link)
    return found


def link_view(link: TrackerLink) -> dict[str, str | None]:
    """A link as plain data; the URL only when it is http(s) (it came from the tracker's
    answer, so it is not trusted to be a harmless link)."""
    url = link.url if link.url and link.url.startswith(("https://", "http://")) else None
    return {"tracker": link.tracker, "key": link.key, "url": url}
