"""Closed vocabularies of a finding: severity, status, change type, capability, source."""

from __future__ import annotations

from enum import StrEnum

from drillbook.domain.scenario.enums import Severity

__all__ = ["Capability", "ChangeType", "FindingSource", "FindingStatus", "Severity"]


class FindingStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    VERIFIED = "verified"
    RISK_ACCEPTED = "risk_accepted"
    WONT_DO = "wont_do"

    @property
    def active(self) -> bool:
        """Still owed work: the SLA clock runs and follow-up asks about it."""
        return self in (FindingStatus.OPEN, FindingStatus.IN_PROGRESS)


class ChangeType(StrEnum):
    """What kind of change closes the gap (first seed, power move 3)."""

    POLICY = "policy"
    CONFIGURATION = "configuration"
    TRAINING = "training"


class Capability(StrEnum):
    """The response capability a gap is in; ranking counts recurrences per capability."""

    ON_CALL = "on_call"
    CREDENTIAL_REVOCATION = "credential_revocation"
    CUSTOMER_COMMS = "customer_comms"
    AUDIT_LOG_ACCESS = "audit_log_access"
    APPROVAL_GATES = "approval_gates"
    REGULATOR_NOTIFICATION = "regulator_notification"
    DETECTION = "detection"
    RUNBOOK = "runbook"
    CONTAINMENT = "containment"
    DATA_SCOPING = "data_scoping"
    ACCESS_ISOLATION = "access_isolation"
    CHANGE_REVIEW = "change_review"
    OTHER = "other"


class FindingSource(StrEnum):
    EXERCISE = "exercise"
    DRILL = "drill"
    INCIDENT = "incident"


class EvidenceKind(StrEnum):
    """Rows of a finding's history."""

    STATUS = "status"
    EVIDENCE = "evidence"
    NOTE = "note"
