"""Finding services: create, change status, add evidence, query the backlog.

The drill scorecard code (issue 6) calls :func:`create_finding`,
:func:`find_open_for_detection`, :func:`add_evidence` and :func:`mark_verified`; their
signatures are a contract. Every status change is a :class:`FindingEvent` with its date,
so the follow-up can tell whether a fix moved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Select, and_, func, not_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from drillbook import clock
from drillbook.domain.exercise.models import Exercise
from drillbook.domain.finding import lifecycle
from drillbook.domain.finding.classify import capability_for, guess_change_type
from drillbook.domain.finding.enums import (
    Capability,
    ChangeType,
    EvidenceKind,
    FindingSource,
    FindingStatus,
    Severity,
)
from drillbook.domain.finding.models import Finding, FindingCounter, FindingEvent
from drillbook.domain.finding.repeats_store import StoredRepeats
from drillbook.domain.program.models import SlaPolicy
from drillbook.errors import ConflictError, NotFoundError, StateError
from drillbook.storage.engine import Store

if TYPE_CHECKING:
    from drillbook.domain.scenario.models import Scenario

_ID = re.compile(r"^F-(\d{1,9})$", re.IGNORECASE)
SEQUENCE = "finding"


def format_id(number: int) -> str:
    return f"F-{number:03d}"


def parse_id(text: str) -> int:
    found = _ID.match(text.strip())
    if not found:
        raise NotFoundError(f"'{text}' is not a finding id (write F-001)")
    return int(found.group(1))


def _scenario_of(session: Session, exercise_id: int | None) -> Scenario | None:
    """The scenario snapshot of the exercise a finding came from (its tags and category
    are the last source of the finding's capability)."""
    from drillbook.domain.scenario.models import Scenario  # pydantic: imported when used

    if exercise_id is None:
        return None
    exercise = session.get(Exercise, exercise_id)
    if exercise is None or not exercise.scenario_document:
        return None
    return Scenario.model_validate(exercise.scenario_document)


def _choice(enum: type[Any], value: str | None, what: str) -> str | None:
    if value is None:
        return None
    try:
        return str(enum(value.strip().lower().replace("-", "_").replace(" ", "_")))
    except ValueError:
        allowed = ", ".join(str(v) for v in enum)
        raise StateError(f"unknown {what} '{value}'; use one of: {allowed}") from None


def _next_number(session: Session) -> int:
    """Take the next number under the counter row's lock (an UPDATE blocks concurrent
    writers on both databases until this transaction ends), skipping numbers already used
    by imported findings."""
    while True:
        result = session.execute(
            update(FindingCounter)
            .where(FindingCounter.name == SEQUENCE)
            .values(value=FindingCounter.value + 1)
        )
        if getattr(result, "rowcount", 1) == 0:
            highest = session.scalar(select(func.max(Finding.number))) or 0
            session.add(FindingCounter(name=SEQUENCE, value=highest + 1))
            session.flush()
        number = int(
            session.scalar(select(FindingCounter.value).where(FindingCounter.name == SEQUENCE)) or 0
        )
        if session.get(Finding, format_id(number)) is None:
            return number


def _reserve(session: Session, number: int) -> None:
    """Move the counter past an explicitly given number (import)."""
    session.execute(
        update(FindingCounter)
        .where(FindingCounter.name == SEQUENCE, FindingCounter.value < number)
        .values(value=number)
    )


def due_date_for(severity: str, opened: date, sla: SlaPolicy | None) -> date:
    policy = sla or SlaPolicy()
    return opened + timedelta(days=policy.days(severity))


def create_finding(
    session: Session,
    *,
    description: str,
    severity: str,
    source: str,
    source_ref: str | None = None,
    owner: str | None = None,
    team: str | None = None,
    proposed_remediation: str | None = None,
    capability: str | None = None,
    change_type: str | None = None,
    rule: str | None = None,
    technique: str | None = None,
    target_date: date | None = None,
    sla: SlaPolicy | None = None,
    fix_location: str | None = None,
    exercise_id: int | None = None,
    finding_id: str | None = None,
    author: str | None = None,
    extra: Mapping[str, Any] | None = None,
    opened_on: date | None = None,
) -> Finding:
    """Open a finding with the next per-library id (or ``finding_id`` on import).

    Capability and change type left blank are guessed from the text and marked as
    inferred; the due date follows the SLA for the severity, counted from ``opened_on``
    (the day the gap was found: an imported document's run date) or from today.
    """
    if not description.strip():
        raise StateError("a finding needs a description of the gap")
    severity_value = _choice(Severity, severity, "severity")
    assert severity_value is not None
    source_value = _choice(FindingSource, source, "source")
    assert source_value is not None
    inferred: list[str] = []
    words = f"{description}\n{proposed_remediation or ''}"
    explicit = _choice(Capability, capability, "capability")
    matched = capability_for(
        Capability(explicit) if explicit else None, words, _scenario_of(session, exercise_id)
    )
    capability_value = str(matched.capability) if matched else None
    if matched is not None and matched.source != "explicit":
        inferred = [*inferred, "capability"]
    change_value = _choice(ChangeType, change_type, "change type")
    if change_value is None:
        guessed_change = guess_change_type(proposed_remediation or description)
        if guessed_change is not None:
            change_value, inferred = str(guessed_change), [*inferred, "change_type"]
    if finding_id is not None:
        number = parse_id(finding_id)
        if session.get(Finding, format_id(number)) is not None:
            raise ConflictError(f"finding {format_id(number)} already exists")
        _reserve(session, number)
    else:
        number = _next_number(session)
    now = clock.now()
    details = dict(extra or {})
    if inferred:
        details["_inferred"] = inferred
    if matched is not None:
        details["_capability_from"] = matched.why
    finding = Finding(
        id=format_id(number),
        number=number,
        severity=severity_value,
        description=description,
        proposed_remediation=proposed_remediation,
        owner=owner,
        team=team,
        status=str(FindingStatus.OPEN),
        change_type=change_value,
        capability=capability_value,
        fix_location=fix_location,
        source=source_value,
        source_ref=source_ref,
        exercise_id=exercise_id,
        rule=rule,
        technique=technique,
        target_date=target_date,
        due_date=due_date_for(severity_value, opened_on or now.date(), sla),
        risk_expires=None,
        created_at=now,
        updated_at=now,
        closed_at=None,
        extra=details,
    )
    finding.history.append(
        FindingEvent(
            at=now,
            kind=str(EvidenceKind.STATUS),
            from_status=None,
            to_status=str(FindingStatus.OPEN),
            text=f"opened from {source_value}",
            source_ref=source_ref,
            author=author,
        )
    )
    session.add(finding)
    try:
        session.flush()
    except IntegrityError:
        # Only an explicit id (import) can race here: numbers handed out by the counter are
        # serialised by its row lock. The unit of work is rolled back by the caller.
        raise ConflictError(
            f"finding {finding.id} was stored by someone else at the same moment; "
            "run the command again"
        ) from None
    return finding


def get_finding(session: Session, finding_id: str) -> Finding:
    """The finding, its row locked until the transaction ends (PostgreSQL; SQLite's
    writers are already one at a time), so two processes changing it queue instead of
    one overwriting the other; the version column refuses any change that slips past."""
    found = session.get(Finding, format_id(parse_id(finding_id)), with_for_update=True)
    if found is None:
        raise NotFoundError(f"no finding {finding_id} (see `drillbook finding list`)")
    return found


def set_status(
    session: Session,
    finding: Finding,
    status: str,
    *,
    note: str | None = None,
    source_ref: str | None = None,
    expires: date | None = None,
    author: str | None = None,
) -> FindingEvent:
    """Change status, recording the change (who, when, from, to, why) with its date. The
    allowed moves and the reasons they need are :mod:`.lifecycle`'s; ``note`` is the why."""
    target = FindingStatus(_choice(FindingStatus, status, "status") or status)
    lifecycle.check_transition(
        finding.status,
        target,
        reason=note,
        expires=expires,
        today=clock.today(),
        finding_id=finding.id,
    )
    now = clock.now()
    event = FindingEvent(
        at=now,
        kind=str(EvidenceKind.STATUS),
        from_status=finding.status,
        to_status=str(target),
        text=note,
        source_ref=source_ref,
        author=author,
    )
    finding.history.append(event)
    finding.status = str(target)
    finding.risk_expires = expires
    finding.updated_at = now
    finding.closed_at = None if target.active else now
    session.flush()
    return event


def _append(
    session: Session,
    finding: Finding,
    kind: EvidenceKind,
    *,
    text: str,
    source_ref: str | None = None,
    author: str | None = None,
) -> None:
    """Add a history line that does not change the status (a note, new evidence)."""
    now = clock.now()
    finding.history.append(
        FindingEvent(
            at=now,
            kind=str(kind),
            from_status=None,
            to_status=None,
            text=text,
            source_ref=source_ref,
            author=author,
        )
    )
    finding.updated_at = now
    session.flush()


def add_note(session: Session, finding: Finding, *, text: str, author: str | None = None) -> None:
    _append(session, finding, EvidenceKind.NOTE, text=text, author=author)


def update_fields(
    session: Session,
    finding: Finding,
    changes: Mapping[str, Any],
    *,
    sla: SlaPolicy | None = None,
    author: str | None = None,
) -> list[str]:
    """Change plain fields (owner, team, target date, ...); returns what changed. A field
    the user sets is no longer marked as inferred."""
    allowed = {
        "owner",
        "team",
        "proposed_remediation",
        "description",
        "fix_location",
        "target_date",
        "severity",
        "capability",
        "change_type",
        "source_ref",
    }
    changed = []
    inferred = set(finding.inferred)
    for key, value in changes.items():
        if key not in allowed:
            raise StateError(f"cannot update '{key}' (allowed: {', '.join(sorted(allowed))})")
        if key == "severity":
            value = _choice(Severity, value, "severity")
        elif key == "capability":
            value = _choice(Capability, value, "capability")
        elif key == "change_type":
            value = _choice(ChangeType, value, "change type")
        if getattr(finding, key) != value:
            changed.append(f"{key}: {getattr(finding, key)} -> {value}")
            setattr(finding, key, value)
        inferred.discard(key)
    if "severity" in changes:
        finding.due_date = due_date_for(finding.severity, finding.created_at.date(), sla)
    extra = dict(finding.extra)
    if inferred:
        extra["_inferred"] = sorted(inferred)
    else:
        extra.pop("_inferred", None)
    if "team" in changes:
        # the team is now the user's word, not the findings document's default: export it
        extra.pop("_team_from_document", None)
    finding.extra = extra
    if changed:
        add_note(session, finding, text="; ".join(changed), author=author)
    return changed


def find_open_for_detection(session: Session, *, rule: str, technique: str) -> Finding | None:
    """The not yet verified finding for a detection that did not fire (one per rule and
    technique), so a drill re-run adds evidence instead of opening a duplicate. A resolved
    one counts: the drill that sees the detection fire is what verifies it."""
    active = [str(FindingStatus.OPEN), str(FindingStatus.IN_PROGRESS), str(FindingStatus.RESOLVED)]
    return session.scalars(
        select(Finding)
        .where(Finding.rule == rule, Finding.technique == technique, Finding.status.in_(active))
        .order_by(Finding.number)
    ).first()


def add_evidence(
    session: Session, finding: Finding, *, text: str, source_ref: str | None = None
) -> None:
    _append(session, finding, EvidenceKind.EVIDENCE, text=text, source_ref=source_ref)


def mark_verified(
    session: Session, finding: Finding, *, note: str, source_ref: str | None = None
) -> None:
    """Verified: the fix was tested (a drill saw the detection fire). Adds the note as
    evidence too, so the proof sits with the finding."""
    add_evidence(session, finding, text=note, source_ref=source_ref)
    if finding.status != FindingStatus.VERIFIED:
        set_status(session, finding, str(FindingStatus.VERIFIED), note=note, source_ref=source_ref)


def _active_clause(today: date) -> ColumnElement[bool]:
    """:attr:`Finding.is_active` as SQL, so the backlog is filtered by the database."""
    owed = [str(FindingStatus.OPEN), str(FindingStatus.IN_PROGRESS)]
    return or_(
        Finding.status.in_(owed),
        and_(
            Finding.status == str(FindingStatus.RISK_ACCEPTED),
            Finding.risk_expires.is_not(None),
            Finding.risk_expires < today,
        ),
    )


def findings_query(
    *,
    status: str | None = None,
    severity: str | None = None,
    owner: str | None = None,
    team: str | None = None,
    capability: str | None = None,
    source: str | None = None,
    exercise_id: int | None = None,
    active: bool | None = None,
    overdue: bool = False,
    ids: Sequence[str] | None = None,
) -> Select[Any]:
    """The backlog query with its filters, in id order (``list_findings`` runs it; the
    streaming reader in :mod:`drillbook.domain.finding.rows` pages through it)."""
    query = select(Finding).order_by(Finding.number)
    if status:
        query = query.where(Finding.status == _choice(FindingStatus, status, "status"))
    if severity:
        query = query.where(Finding.severity == _choice(Severity, severity, "severity"))
    if owner:
        query = query.where(Finding.owner == owner)
    if team:
        query = query.where(Finding.team == team)
    if capability:
        query = query.where(Finding.capability == _choice(Capability, capability, "capability"))
    if source:
        query = query.where(Finding.source == _choice(FindingSource, source, "source"))
    if exercise_id is not None:
        query = query.where(Finding.exercise_id == exercise_id)
    today = clock.today()
    if active is not None:
        query = query.where(_active_clause(today) if active else not_(_active_clause(today)))
    if overdue:
        query = query.where(
            _active_clause(today), Finding.due_date.is_not(None), Finding.due_date < today
        )
    if ids is not None:
        query = query.where(Finding.id.in_(list(ids)))
    return query


def count_findings(session: Session, **filters: Any) -> int:
    """How many findings match (a ``COUNT`` in the database, for titles and pages)."""
    query = findings_query(**filters).order_by(None)
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def list_findings(session: Session, **filters: Any) -> list[Finding]:
    """The backlog as ORM objects (with history), filtered as :func:`findings_query`."""
    return list(session.scalars(findings_query(**filters)))


def finding_summary(finding: Finding) -> dict[str, Any]:
    """A finding as plain data (``--json``, the web app)."""
    return {
        "id": finding.id,
        "severity": finding.severity,
        "status": finding.status,
        "description": finding.description,
        "proposed_remediation": finding.proposed_remediation,
        "owner": finding.owner,
        "team": finding.team,
        "target_date": finding.target_date,
        "due_date": finding.due_date,
        "overdue": finding.overdue,
        "change_type": finding.change_type,
        "capability": finding.capability,
        "inferred": finding.inferred,
        "fix_location": finding.fix_location,
        "source": finding.source,
        "source_ref": finding.source_ref,
        "exercise_id": finding.exercise_id,
        "rule": finding.rule,
        "technique": finding.technique,
        "risk_expires": finding.risk_expires,
        "created_at": finding.created_at,
        "closed_at": finding.closed_at,
        "history": [
            {
                "at": e.at,
                "kind": e.kind,
                "from": e.from_status,
                "to": e.to_status,
                "text": e.text,
                "source_ref": e.source_ref,
                "author": e.author,
            }
            for e in finding.history
        ],
    }


def finding_repeats(store: Store, *, early: bool = False) -> StoredRepeats:
    """What lint asks for (:func:`drillbook.flows.lint_library.lint_library` calls it
    with the store it records revisions in): for a scenario id, the gaps recorded in more
    than one of its runs; with ``early``, found in a thread started now (not for an
    in-memory SQLite store: its one connection is shared)."""
    shared = isinstance(store.engine.pool, StaticPool)
    return StoredRepeats(store.reading, early=early and not shared)
