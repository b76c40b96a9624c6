"""Indexes for the program's read side (metrics, schedule, evidence, big backlogs).

Declared here, beside the tables of other domains rather than inside them, because they
serve the program's queries: metrics aggregate findings by when they were opened and
closed, the overdue filter walks due dates, ``finding list --cursor`` pages by number,
and history is read per finding in time order. Migrations ``0016_program``,
``0018_program_covering``, ``0020_program_metrics`` and ``0021_followup_changes`` create
them.
"""

from __future__ import annotations

from sqlalchemy import Index, text

from drillbook.domain.exercise.models import Exercise
from drillbook.domain.finding.models import Finding, FindingEvent
from drillbook.domain.scorecard.models import DetectionResultRow

# the partial index's predicate; a query uses the index only when its own WHERE says the
# same with the value written out (flows.followup.status_changes_index_query)
STATUS_CHANGES_PREDICATE = "kind = 'status' AND from_status IS NOT NULL"

PROGRAM_INDEXES = (
    Index("ix_findings_created_at", Finding.created_at),
    Index("ix_findings_closed_at", Finding.closed_at),
    Index("ix_findings_status_due_date", Finding.status, Finding.due_date),
    Index("ix_findings_team_created_at", Finding.team, Finding.created_at),
    Index("ix_finding_events_finding_id_at", FindingEvent.finding_id, FindingEvent.at),
    Index("ix_exercises_team_run_date", Exercise.team, Exercise.run_date),
    Index("ix_detection_results_checked_at", DetectionResultRow.checked_at),
    # covering the metrics' counts per team and severity, and the time to close
    # (migration 0018_program_covering)
    Index(
        "ix_findings_team_severity_status",
        Finding.team,
        Finding.severity,
        Finding.status,
        Finding.due_date,
        Finding.risk_expires,
        Finding.created_at,
        Finding.closed_at,
    ),
    Index(
        "ix_findings_closed_at_severity", Finding.closed_at, Finding.severity, Finding.created_at
    ),
    # a team's first overdue findings (past_sla) and the time to close per severity
    # (migration 0020_program_metrics)
    Index("ix_findings_team_due_date", Finding.team, Finding.due_date, Finding.number),
    Index(
        "ix_findings_severity_closed_at", Finding.severity, Finding.closed_at, Finding.created_at
    ),
    # each finding's latest status change (follow-up, migration 0021_followup_changes):
    # only the status changes, a fraction of the events, in finding order
    Index(
        "ix_finding_events_status_changes",
        FindingEvent.finding_id,
        FindingEvent.at,
        sqlite_where=text(STATUS_CHANGES_PREDICATE),
        postgresql_where=text(STATUS_CHANGES_PREDICATE),
    ),
)
