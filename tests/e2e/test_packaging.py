"""The package keeps building: `python -m build` makes a wheel and an sdist, and each installs
into a clean virtual environment where `drillbook --version` prints the built version."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.helpers import ROOT, require


def _run(args: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        **kwargs,  # type: ignore[arg-type]
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done


@pytest.mark.slow
def test_wheel_and_sdist_build_and_install_in_a_clean_venv(tmp_path: Path) -> None:
    require((ROOT / ".git").exists(), "not a git checkout (the version comes from git)")
    dist = tmp_path / "dist"
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL_ENV")}
    _run([sys.executable, "-m", "build", "--outdir", dist, ROOT], env=env)
    (wheel,) = dist.glob("drillbook-*.whl")
    (sdist,) = dist.glob("drillbook-*.tar.gz")
    built_version = wheel.name.split("-")[1]

    target = tmp_path / "venv"
    venv.create(target, with_pip=True)
    python = target / "bin" / "python"
    # The dependencies from the lock (hash-checked), then each artefact on its own.
    _run([python, "-m", "pip", "install", "-q", "--require-hashes", "-r",
          ROOT / "requirements" / "lock.txt"], env=env)  # fmt: skip
    for artefact in (wheel, sdist):
        _run([python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", artefact],
             env=env)  # fmt: skip
        shown = _run([target / "bin" / "drillbook", "--version"], env=env, cwd=tmp_path)
        assert shown.stdout.strip() == f"drillbook {built_version}", artefact.name
        probe = (
            "from importlib.metadata import metadata, files\n"
            "print(metadata('drillbook')['License-Expression'])\n"
            "print(sum('builtin/scenarios/' in str(f) for f in files('drillbook')))"
        )
        license_text, scenarios = _run([python, "-c", probe], env=env).stdout.split()
        assert license_text == "Apache-2.0"
        assert int(scenarios) >= 20, "the built-in scenarios are missing from the package"
