"""``musebench bench-all --jobs 2`` runs a grid here, two ``musebench bench`` processes at
once, and every cell lands its row in the one shared results store."""

from __future__ import annotations

import pytest

from musebench.cli import main
from musebench.leaderboard.store import read_rows


@pytest.mark.slow  # two smoke bench processes (markov, random) side by side, ~15-25 s
def test_local_grid_of_two_cells_lands_two_rows(tmp_path, capsys):
    code = main(["bench-all", "--models", "markov", "random", "--preset", "smoke",
                 "--no-audio", "--jobs", "2", "--out", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    rows = read_rows(tmp_path / "results.jsonl")
    assert sorted((r["model"], r["dataset"], r["seed"]) for r in rows) == [
        ("markov", "fixture", 0), ("random", "fixture", 0)]
    assert len(list((tmp_path / "grid-logs").glob("*.log"))) == 2
