"""Reference rows: the real test split scored against train (cached), and the published
figures; `musebench leaderboard --wandb` logs the table offline."""

from __future__ import annotations

import json
import time

import pytest

from musebench.experiments.cli import main
from musebench.leaderboard.reference import REAL_DATA, published_rows, real_data_row
from musebench.leaderboard.store import append_row


def test_real_data_row_scores_test_against_train_and_is_cached(session_cache):
    row = real_data_row("fixture", refresh=True)
    assert row["kind"] == "reference" and row["model"] == REAL_DATA
    assert row["metrics"]["n_samples"] == 2 and row["metrics"]["n_reference"] == 8
    assert 0 < row["metrics"]["chord_conformance_notes"] <= 1
    cached = session_cache / "reference" / "fixture.json"
    assert json.loads(cached.read_text())["row"]["metrics"].keys() == row["metrics"].keys()
    started = time.perf_counter()
    assert real_data_row("fixture") == row
    assert time.perf_counter() - started < 1.0


def test_published_rows_reject_a_malformed_csv(tmp_path):
    bad = tmp_path / "ref.csv"
    bad.write_text("model,dataset,log_likelihood_per_step,frame_accuracy_percent,source\n"
                   "RNN,jsb,not-a-number,3.0,paper\n")
    with pytest.raises(ValueError, match=r"ref\.csv:2: bad published row"):
        published_rows(bad)


def test_leaderboard_wandb_logs_the_table_offline(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    store = tmp_path / "results.jsonl"
    append_row({"run_id": "r", "model": "markov", "dataset": "fixture", "preset": "smoke",
                "seed": 0, "metrics": {"pitch_entropy": 2.0}}, store)
    assert main(["leaderboard", "--results", str(store), "--wandb", "--no-reference"]) == 0
    assert "markov (smoke, 1 seed)" in capsys.readouterr().out
    runs = list((tmp_path / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    deadline = time.monotonic() + 20  # W&B's writer process flushes after run.finish()
    while not (tables := list(runs[0].glob("files/media/table/leaderboard_*.table.json"))):
        assert time.monotonic() < deadline, "no leaderboard table written"
        time.sleep(0.1)
    table = json.loads(tables[0].read_text())
    assert table["columns"][:2] == ["model", "dataset"] and table["data"][0][0] == "markov"
