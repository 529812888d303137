"""``make bench`` followed by ``make bench RESUME=1`` (or the README's ``musebench bench …
--resume``) continues the same run (issue #17): the Makefile's explicit flags do not
change the run folder's name."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("make") is None, reason="needs make")]


def make(tmp_path: Path, store: str, *variables: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "MUSEBENCH_RESULTS": str(tmp_path / store)}
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(ROOT), "bench", f"PY={sys.executable}",
         "MODEL=crnngan", "PRESET=smoke", f"OUT={tmp_path / 'runs'}", *variables],
        env=env, capture_output=True, text=True, timeout=600)


def test_make_bench_then_resume_continues_the_same_run(tmp_path: Path):
    first = make(tmp_path, "first.jsonl", "PRECISION=32-true", "DEVICES=1", "NODES=1")
    assert first.returncode == 0, first.stderr[-3000:]
    (folder,) = (tmp_path / "runs" / "crnngan").glob("*/*/checkpoints/last.ckpt")
    folder = folder.parents[1]

    # the README's command, without the Makefile's flags, finds that run (and says it is
    # finished, since its row is in the store)
    readme = subprocess.run(
        [sys.executable, "-m", "musebench", "bench", "--model", "crnngan", "--preset", "smoke",
         "--out", str(tmp_path / "runs"), "--resume"],
        env={**os.environ, "MUSEBENCH_RESULTS": str(tmp_path / "first.jsonl")},
        capture_output=True, text=True, timeout=600)
    assert readme.returncode == 2
    assert "this run finished" in readme.stderr and str(folder) in readme.stderr
    assert "nothing to resume from" not in readme.stderr

    # RESUME=1 continues from its checkpoint (into another store, where it has no row)
    again = make(tmp_path, "second.jsonl", "RESUME=1")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "Restored all states from the checkpoint" in again.stdout + again.stderr
    (row,) = [json.loads(line) for line in (tmp_path / "second.jsonl").read_text().splitlines()]
    assert row["folder"] == str(folder)
    assert len(list((tmp_path / "runs" / "crnngan").glob("*/*/config.yaml"))) == 1
