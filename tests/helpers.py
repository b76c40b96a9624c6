"""Test helpers shared across the suite (not fixtures: plain functions)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from drillbook.domain.scenario.models import Scenario

ROOT = Path(__file__).resolve().parents[1]
FILES = ROOT / "tests" / "files"
SEED = FILES / "seed"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Skip with ``reason`` when a system part is missing, but fail in CI: CI must have it."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


def shared_data() -> Path:
    """``../shared/data`` (third-party atomics and Sigma rules); skipped cleanly when absent."""
    configured = os.environ.get("DRILLBOOK_SHARED_DATA")
    path = Path(configured) if configured else ROOT.parent / "shared" / "data"
    require(path.is_dir(), f"shared test data not found at {path}")
    return path


def require_binary(name: str) -> str:
    found = shutil.which(name)
    require(found is not None, f"{name} is not installed")
    assert found is not None
    return found


def quiet_scenario(
    sid: str, category: str, initial_state: str = "Something odd happened."
) -> Scenario:
    """A minimal valid scenario of ``category`` whose text names no capability unless
    ``initial_state`` does (ranking tests control what the scenario's words cover)."""
    return Scenario.model_validate(
        {
            "id": sid,
            "title": "Quiet scenario",
            "duration": "60m",
            "category": category,
            "participants": [{"role": "incident_commander"}],
            "initial_state": initial_state,
            "injects": [{"time": "0m", "description": "It starts."}],
        }
    )
