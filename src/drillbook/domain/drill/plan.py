"""The schema of a drill plan (``drills/*.yaml``) and of a safety profile.

A plan names its techniques, each one of three kinds:

* an Atomic Red Team test: ``atomic: T1082`` plus ``test:`` (number, name or GUID) and
  ``inputs:`` overriding the test's input arguments;
* a Stratus Red Team technique: ``stratus: aws.credential-access.ec2-steal-instance-credentials``;
* an inline command in the seed's ``atomic-runner.yml`` shape: ``name``, ``test`` (the shell
  text), ``expected_detection``, ``cleanup``.

Each carries the detections it should trigger (:class:`ExpectedDetection`). The plan has a
target (this host, an SSH host, a cloud account profile) and a safety profile in the seed's
shape; our extensions (``elevation_allowed``, ``network_allowed``, ``max_duration``,
``technique_timeout``) are optional keys beside the seed's. The seed's own files load
verbatim: ``atomic-runner.yml`` is a top-level list of inline techniques, and the safety
profile file is a mapping holding ``safety:``.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    Tag,
    field_validator,
    model_validator,
)

from drillbook.documents.durations import DurationText, parse_duration
from drillbook.domain.drill.enums import TargetKind
from drillbook.domain.scenario.enums import Severity

DEFAULT_TECHNIQUE_TIMEOUT = "120s"
ATTACK_ID = re.compile(r"^T\d{4}(?:\.\d{3})?$")
STRATUS_ID = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+){2,}$")
_VOLUME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B)\s*$", re.IGNORECASE)
_VOLUME_UNITS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}
_DURATION_ABORT = re.compile(
    r"duration\s+exceeds\s+(\d+(?:\.\d+)?)\s*(seconds?|secs?|s|minutes?|mins?|m|hours?|h)\b",
    re.IGNORECASE,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_volume(text: str) -> int:
    """``10MB`` -> bytes. Decimal units (MB = 10^6) and binary ones (MiB = 2^20)."""
    match = _VOLUME.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a data volume; write e.g. 10MB, 512KiB, 1GB")
    return int(float(match.group(1)) * _VOLUME_UNITS[match.group(2).lower()])


class ExpectedDetection(_Strict):
    """A detection a technique should trigger: a Sigma rule (path or id) or a backend query.

    The detection check (a separate module) imports this exact name.
    """

    sigma_rule: str | None = None
    rule_id: str | None = None
    title: str | None = None
    query: str | None = None
    backend: str | None = None
    expected_severity: Severity | None = None

    @model_validator(mode="after")
    def _names_something(self) -> ExpectedDetection:
        if not (self.sigma_rule or self.rule_id or self.query):
            raise ValueError("an expected detection needs sigma_rule, rule_id or query")
        return self


class Check(_Strict):
    """Evidence that a technique actually did its thing, beyond its exit code."""

    exit_code: int | None = None
    stdout_contains: str | None = None
    file_exists: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Check:
        given = [
            v for v in (self.exit_code, self.stdout_contains, self.file_exists) if v is not None
        ]
        if len(given) != 1:
            raise ValueError("a check has exactly one of exit_code, stdout_contains, file_exists")
        return self


def _listify(value: Any) -> Any:
    # `expected_detection: {sigma_rule: ...}` is as natural as a one-item list.
    return [value] if isinstance(value, dict) else value


Detections = Annotated[list[ExpectedDetection], BeforeValidator(_listify)]


class _TechniqueBase(_Strict):
    expected_detection: Detections = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    timeout: DurationText | None = None
    network: bool | None = Field(
        default=None,
        description="Declare that the technique sends (true) or does not send (false) network "
        "traffic; overrides what drillbook infers from the command text.",
    )

    def timeout_seconds(self, default: float) -> float:
        return parse_duration(self.timeout).total_seconds() if self.timeout else default


class AtomicTechnique(_TechniqueBase):
    kind: Literal["atomic"] = "atomic"
    atomic: str
    test: int | str
    inputs: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @field_validator("atomic")
    @classmethod
    def _attack_id(cls, value: str) -> str:
        if not ATTACK_ID.match(value):
            raise ValueError(f"'{value}' is not an ATT&CK technique id like T1082 or T1087.001")
        return value

    @field_validator("test")
    @classmethod
    def _test_ref(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 1:
            raise ValueError("test numbers start at 1 (as Invoke-AtomicTest counts them)")
        return value


class StratusTechnique(_TechniqueBase):
    kind: Literal["stratus"] = "stratus"
    stratus: str
    warmup: bool = True
    revert: bool = Field(
        default=False,
        description="Run `stratus revert` after detonation (techniques that support it); "
        "`stratus cleanup` reverts too before removing the prerequisites.",
    )

    @field_validator("stratus")
    @classmethod
    def _stratus_id(cls, value: str) -> str:
        if not STRATUS_ID.match(value):
            raise ValueError(
                f"'{value}' is not a Stratus Red Team technique id like "
                "aws.credential-access.ec2-steal-instance-credentials"
            )
        return value


class InlineTechnique(_TechniqueBase):
    """The seed's ``atomic-runner.yml`` entry: ``name``, ``test``, ``expected_detection``,
    ``cleanup``; the other keys are our optional extensions."""

    kind: Literal["inline"] = "inline"
    name: str
    test: str
    cleanup: str | None = None
    technique: str | None = None
    executor: Literal["sh", "bash"] = "sh"
    elevation_required: bool = False

    @field_validator("technique")
    @classmethod
    def _attack_id(cls, value: str | None) -> str | None:
        if value is not None and not ATTACK_ID.match(value):
            raise ValueError(f"'{value}' is not an ATT&CK technique id like T1059.004")
        return value

    @property
    def attack_id(self) -> str | None:
        """The ATT&CK id: ``technique:``, else the name's leading ``T1059.004 - ...``."""
        if self.technique:
            return self.technique
        head = self.name.split()[0] if self.name.split() else ""
        return head if ATTACK_ID.match(head) else None


def _technique_kind(value: Any) -> str:
    if isinstance(value, dict):
        if "atomic" in value:
            return "atomic[kind]"
        if "stratus" in value:
            return "stratus[kind]"
        if "kind" in value and value["kind"] in {"atomic", "stratus"}:
            return f"{value['kind']}[kind]"
    elif isinstance(value, AtomicTechnique | StratusTechnique | InlineTechnique):
        return f"{value.kind}[kind]"
    return "inline[kind]"


# The tags carry brackets so that the library's error locator drops them from paths.
TechniqueEntry = Annotated[
    Annotated[AtomicTechnique, Tag("atomic[kind]")]
    | Annotated[StratusTechnique, Tag("stratus[kind]")]
    | Annotated[InlineTechnique, Tag("inline[kind]")],
    Discriminator(_technique_kind),
]


class Target(_Strict):
    """Where the techniques run: this host, an SSH host, or a cloud account profile."""

    kind: TargetKind = TargetKind.LOCAL
    host: str | None = None
    user: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    profile: str | None = None
    provider: Literal["aws", "gcp", "azure", "kubernetes"] | None = None
    identity_file: str | None = Field(
        default=None, description="SSH private key for an ssh target (ssh -i)."
    )
    ssh_options: list[str] = Field(
        default_factory=list,
        description="Extra `ssh -o` options for an ssh target, each `Name=value`.",
    )

    @field_validator("ssh_options")
    @classmethod
    def _ssh_option(cls, value: list[str]) -> list[str]:
        for option in value:
            if not re.match(r"^[A-Za-z]+=\S.*$", option):
                raise ValueError(f"ssh option '{option}' must look like Name=value")
        return value

    @model_validator(mode="after")
    def _complete(self) -> Target:
        if self.kind is TargetKind.SSH and not self.host:
            raise ValueError("an ssh target needs host")
        if self.kind is TargetKind.CLOUD and not self.profile:
            raise ValueError("a cloud target needs profile (the account profile to use)")
        return self

    def describe(self) -> str:
        if self.kind is TargetKind.SSH:
            who = f"{self.user}@" if self.user else ""
            return f"ssh {who}{self.host}" + (f":{self.port}" if self.port else "")
        if self.kind is TargetKind.CLOUD:
            return f"cloud {self.provider or ''} profile {self.profile}".replace("  ", " ")
        return "local host"


class SafetyProfile(_Strict):
    """The seed's production-drill safety profile plus optional extension keys."""

    max_data_volume_simulated: str | None = None
    destructive_actions_allowed: bool = False
    blast_radius: str | None = None
    abort_conditions: list[str] = Field(default_factory=list)
    notification: list[str] = Field(default_factory=list)
    # extensions
    elevation_allowed: bool = False
    network_allowed: bool = False
    max_duration: DurationText | None = None
    technique_timeout: DurationText = DEFAULT_TECHNIQUE_TIMEOUT
    sandbox: Literal["bubblewrap", "none"] = Field(
        default="bubblewrap",
        description="How local techniques are contained: `bubblewrap` (the kernel enforces "
        "the profile) or `none` (uncontained; only the command-text checks stand, and the "
        "report and scorecard say so).",
    )
    writable: list[str] = Field(
        default_factory=list,
        description="Absolute host paths a contained technique may change (everything else "
        "outside its scratch is read-only).",
    )

    @field_validator("writable")
    @classmethod
    def _absolute(cls, value: list[str]) -> list[str]:
        for path in value:
            if not path.startswith("/"):
                raise ValueError(f"writable path '{path}' must be absolute, like /srv/drill")
            if path.rstrip("/") == "":
                raise ValueError(
                    "writable: / would make the whole host writable; use "
                    "destructive_actions_allowed: true for that"
                )
        return value

    @property
    def contained(self) -> bool:
        return self.sandbox != "none"

    @field_validator("max_data_volume_simulated")
    @classmethod
    def _volume(cls, value: str | None) -> str | None:
        if value is not None:
            parse_volume(value)
        return value

    @property
    def max_data_volume_bytes(self) -> int | None:
        return (
            None
            if self.max_data_volume_simulated is None
            else parse_volume(self.max_data_volume_simulated)
        )

    @property
    def technique_timeout_seconds(self) -> float:
        return parse_duration(self.technique_timeout).total_seconds()

    def max_duration_delta(self) -> timedelta | None:
        """The drill's time limit: ``max_duration``, else the tightest abort condition of the
        form "drill duration exceeds 30 minutes", else none."""
        limits: list[timedelta] = []
        if self.max_duration:
            limits.append(parse_duration(self.max_duration))
        for condition in self.abort_conditions:
            match = _DURATION_ABORT.search(condition)
            if match:
                unit = match.group(2)[0].lower()
                limits.append(parse_duration(f"{match.group(1)}{unit}"))
        return min(limits) if limits else None


class SafetyProfileFile(_Strict):
    """A file holding just a safety profile, as the seed writes it (``safety:`` at the top)."""

    safety: SafetyProfile


class DrillPlan(_Strict):
    """A drill plan: what to detonate, where, under which safety profile."""

    name: str
    description: str | None = None
    team: str | None = Field(
        default=None, description="Team the drill is run for (counted per team in metrics)."
    )
    target: Target = Field(default_factory=Target)
    safety: SafetyProfile | str = Field(
        default_factory=SafetyProfile,
        description="The profile itself, or the path (relative to the plan) of a profile file.",
    )
    techniques: list[TechniqueEntry] = Field(min_length=1)


class TechniqueList(RootModel[list[TechniqueEntry]]):
    """The seed's ``atomic-runner.yml``: a top-level list of techniques."""


Technique = AtomicTechnique | StratusTechnique | InlineTechnique


def describe_containment(safety: dict[str, Any] | None) -> str:
    """How a run's local techniques were contained, in plain words (from the stored
    safety profile; runs recorded before the sandbox existed show as uncontained)."""
    if not safety or safety.get("sandbox", "none") == "none":
        return (
            "none: techniques ran uncontained with the runner's rights; only their "
            "command text was checked"
        )
    return "bubblewrap sandbox: the kernel enforced the safety profile"
