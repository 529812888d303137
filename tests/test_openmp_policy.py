"""The OpenMP wait policy chosen on import (musebench.openmp_wait_policy): passive unless
the user chose otherwise, and set before torch loads its OpenMP runtime."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from musebench import OPENMP_WAIT_SETTINGS, openmp_wait_policy


def test_passive_is_set_when_nothing_is_chosen() -> None:
    environ = {"PATH": "/bin"}
    assert openmp_wait_policy(environ) == "PASSIVE"
    assert environ == {"PATH": "/bin", "OMP_WAIT_POLICY": "PASSIVE"}


@pytest.mark.parametrize("name", OPENMP_WAIT_SETTINGS)
def test_a_users_own_setting_wins(name: str) -> None:
    environ = {name: "ACTIVE" if name == "OMP_WAIT_POLICY" else "300000"}
    before = dict(environ)
    assert openmp_wait_policy(environ) is None
    assert environ == before


def test_a_fresh_process_has_it_before_torch_starts() -> None:
    """Importing musebench first (as ``python -m musebench`` and every perf cell do) sets it
    in the environment that torch's OpenMP runtime then reads, and children inherit it."""
    env = {k: v for k, v in os.environ.items() if k not in OPENMP_WAIT_SETTINGS}
    code = ("import musebench, os, subprocess, sys; import torch; "
            "print(os.environ['OMP_WAIT_POLICY']); sys.stdout.flush(); "
            "subprocess.run([sys.executable, '-c', "
            "'import os; print(os.environ[\"OMP_WAIT_POLICY\"])'])")
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=True)
    assert done.stdout.split() == ["PASSIVE", "PASSIVE"]
