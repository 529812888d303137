"""The Makefile's environment (issue #17, PEP 668): outside an active environment,
``make install`` creates the project venv and every target runs its python; inside an
active venv, that venv's python runs. Checked with ``make -n`` (nothing is installed)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def dry_run(target: str, *variables: str, **env: str) -> str:
    base = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "CONDA_PREFIX")}
    return subprocess.run(["make", "-n", "--no-print-directory", "-C", str(ROOT), target,
                           *variables], env={**base, **env}, capture_output=True, text=True,
                          check=True).stdout


def test_install_creates_the_venv_outside_an_environment(tmp_path: Path):
    venv = tmp_path / "venv"
    out = dry_run("install", f"VENV={venv}", "PYTHON=/usr/bin/python3")
    assert f"/usr/bin/python3 -m venv {venv}" in out
    assert "install-packages" in out  # a second make, which sees the new venv
    # an interpreter named on the command line is used as is: no venv
    assert "-m venv" not in dry_run("install", f"VENV={venv}", "PY=/opt/python/bin/python3")


def test_targets_use_the_project_venv_once_it_exists(tmp_path: Path):
    venv = tmp_path / "venv"
    assert "python3 -m pytest" in dry_run("test", f"VENV={venv}")  # no venv yet
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("#!/bin/sh\n")
    (venv / "bin" / "python").chmod(0o755)
    for target, command in (("test", "-m pytest"), ("lint", "-m ruff"),
                            ("install-packages", "-m pip install"),
                            ("bench", "-m musebench bench"), ("regress", "-m musebench regress"),
                            ("official", "-m musebench official"),
                            ("official", "-m musebench leaderboard --official")):
        assert f"{venv}/bin/python {command}" in dry_run(target, f"VENV={venv}"), target


def test_an_active_environment_is_used_as_is(tmp_path: Path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").write_text("#!/bin/sh\n")
    (venv / "bin" / "python").chmod(0o755)
    mine = tmp_path / "mine"
    # the venv is made only when no environment is active: the shell test sees it
    assert f'[ -z "{mine}" ]' in dry_run("install", f"VENV={tmp_path / 'other'}",
                                         VIRTUAL_ENV=str(mine))
    assert '[ -z "" ]' in dry_run("install", f"VENV={tmp_path / 'other'}")
    assert "python -m pytest" in dry_run("test", f"VENV={venv}", VIRTUAL_ENV="/x")
    assert f"{venv}/bin/python" not in dry_run("test", f"VENV={venv}", VIRTUAL_ENV="/x")


def test_bench_passes_only_the_settings_given_and_resume():
    plain = dry_run("bench", "MODEL=markov", "PY=python3")
    assert "--precision" not in plain and "--devices" not in plain and "--resume" not in plain
    given = dry_run("bench", "MODEL=markov", "PY=python3", "PRECISION=32-true", "RESUME=1")
    assert "--precision 32-true" in given and "--resume" in given
