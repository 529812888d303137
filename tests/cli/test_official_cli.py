"""``musebench official`` and ``musebench leaderboard --official`` from the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

TINY = """
preset: smoke
seeds_first: 1
seeds_other: 1
tracks:
  poly:
    title: Tiny polyphonic
    datasets: [jsb]
    view: full
    requires: [frames]
    headline: [m]
"""


def musebench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "musebench", *args], capture_output=True,
                          text=True, timeout=300, env=env)


def test_cli_states_the_plan_and_cost(tmp_path: Path) -> None:
    result = musebench("official", "--dry-run", "--tracks", "polyphonic", "--seeds", "0",
                       "--results", str(tmp_path / "o.jsonl"))
    assert result.returncode == 0, result.stderr
    # 4 data sets x the 3 models whose codecs hold frames (biaxial, pianoroll_lstm, rnn_nade)
    assert "official grid: 12 cell(s) to run, 0 already done" in result.stdout
    # 4 cells each at budget_minutes 10 (biaxial, pianoroll_lstm, rnn_nade)
    assert "estimated cost 120 min" in result.stdout
    assert "jsb / biaxial / seed 0" in result.stdout and "jsb / rnn_nade / seed 0" in result.stdout
    refused = musebench("official", "--allow-dirty")
    assert refused.returncode == 2 and "cannot write the official store" in refused.stderr


def test_leaderboard_official_shows_runs_and_ceilings_per_track(tmp_path: Path) -> None:
    protocol = tmp_path / "tracks.yaml"
    protocol.write_text(TINY)
    store = tmp_path / "official.jsonl"
    rows = [{"run_id": f"r{s}", "track": "poly", "dataset": "jsb", "model": "lstm",
             "preset": "smoke", "seed": s, "metrics": {"m": v}, "ceiling": {"m": 0.5}}
            for s, v in enumerate([1.0, 2.0, 3.0])]
    store.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "official.md"
    result = musebench("leaderboard", "--official", "--protocol", str(protocol),
                       "--results", str(store), "--no-reference", "--out", str(out))
    assert result.returncode == 0, result.stderr
    page = out.read_text()   # the track tables went to stdout only, never into --out
    assert "### Tiny polyphonic: jsb" in page
    assert "| lstm | 3 | – | 2.000 [-0.484, 4.484] |" in page
    assert "| lstm (ceiling) | 3 | – | 0.500 [0.500, 0.500] |" in page
    # the checked-in official rows are of tracks this protocol lacks: stale, left out
    assert "stale official row(s)" in page and "official)" not in page


def test_leaderboard_official_without_the_data_still_shows_the_runs(tmp_path: Path) -> None:
    protocol = tmp_path / "tracks.yaml"
    protocol.write_text(TINY)
    store = tmp_path / "official.jsonl"
    row = {"run_id": "r0", "track": "poly", "dataset": "jsb", "model": "lstm",
           "preset": "smoke", "seed": 0, "metrics": {"m": 1.0}}
    store.write_text(json.dumps(row) + "\n")
    env = {k: v for k, v in os.environ.items() if k != "MUSEBENCH_DATA"}
    result = musebench("leaderboard", "--official", "--protocol", str(protocol),
                       "--results", str(store), "--dataset", "jsb", env=env)
    assert result.returncode == 0, result.stderr
    assert "no full reference row for jsb" in result.stderr and "MUSEBENCH_DATA" in result.stderr
    assert "| lstm | 1 |" in result.stdout


def test_dataset_option_builds_only_that_reference(tmp_path: Path, monkeypatch) -> None:
    """``--dataset jsb`` shows jsb only: the reference rows of the other data sets in the
    stores (here bach, a parse and a scoring) are not built."""
    import argparse

    from musebench.cli import leaderboard

    store = tmp_path / "runs.jsonl"
    store.write_text("".join(json.dumps({"run_id": f"r{d}", "dataset": d, "model": "m",
                                         "preset": "smoke", "seed": 0, "metrics": {"x": 1.0}})
                             + "\n" for d in ("bach", "jsb")))
    built = []
    monkeypatch.setattr(leaderboard, "reference_row",
                        lambda dataset, root, view, beats=None: built.append(dataset))
    args = argparse.Namespace(results=[store], official=False, dataset="jsb",
                              no_reference=False, data_root=None)
    leaderboard.collect_rows(args)
    assert built == ["jsb"]
