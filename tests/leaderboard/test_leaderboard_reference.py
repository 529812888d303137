"""Reference rows: the real test split scored against train (cached), and the published
figures; `musebench leaderboard --wandb` logs the table offline."""

from __future__ import annotations

import json
import time

import pytest

from musebench.cli import main
from musebench.experiments import scoring
from musebench.experiments.scoring import real_data_row
from musebench.leaderboard.reference import REAL_DATA, published_rows, real_data_label
from musebench.leaderboard.store import append_row


def test_real_data_row_scores_test_against_train_and_is_cached(session_cache, monkeypatch):
    row = real_data_row("fixture", refresh=True)
    assert row["kind"] == "reference" and row["model"] == REAL_DATA
    assert row["metrics"]["n_samples"] == 2 and row["metrics"]["n_reference"] == 8
    assert 0 < row["metrics"]["chord_conformance_notes"] <= 1
    cached = session_cache / "reference" / "fixture.json"
    assert json.loads(cached.read_text())["row"]["metrics"].keys() == row["metrics"].keys()
    def no_scoring(*args, **kwargs):
        raise AssertionError("scored again: the cached row was not used")

    monkeypatch.setattr(scoring, "score_in_view", no_scoring)
    assert real_data_row("fixture") == row


def test_apply_view_gives_melodies_or_the_pieces_and_names_an_unknown_view():
    from musebench.datasets import load
    from musebench.datasets.views import apply_view
    from musebench.models import get_model
    from musebench.models.base import MusicGenerator

    pieces = load("fixture").test
    assert apply_view(pieces, "full") == pieces
    melodies = apply_view(pieces, "melody")
    assert [len(m.notes) for m in melodies] == [len(p.melody().notes) for p in pieces]
    assert all(len(m.notes) < len(p.notes) for m, p in zip(melodies, pieces, strict=True))
    with pytest.raises(ValueError, match="'bass'"):
        apply_view(pieces, "bass")
    assert MusicGenerator.view == "full"
    views = {name: get_model(name).view for name in
             ("markov", "random", "midinet", "crnngan", "lstm_attention", "pianoroll_lstm",
              "biaxial")}
    assert views == {"markov": "melody", "random": "melody", "midinet": "melody",
                     "crnngan": "full", "lstm_attention": "full", "pianoroll_lstm": "full",
                     "biaxial": "full"}


def test_real_data_reference_is_per_view_and_cached_apart(session_cache):
    full = real_data_row("fixture")
    melody = real_data_row("fixture", view="melody", refresh=True)
    assert melody["model"] == real_data_label("melody") != full["model"]
    assert melody["view"] == "melody" and full["view"] == "full"
    assert melody["metrics"]["polyphony"] == 1.0 < full["metrics"]["polyphony"]
    assert melody["metrics"]["pitch_range"] != full["metrics"]["pitch_range"]
    assert (session_cache / "reference" / "fixture.melody.json").is_file()
    # from the cache (NaN metrics, e.g. tonal distance of one line, compare as text)
    assert json.dumps(real_data_row("fixture", view="melody"), sort_keys=True) == \
        json.dumps(melody, sort_keys=True)
    assert real_data_row("fixture") == full
    with pytest.raises(ValueError, match="'bass'"):
        real_data_row("fixture", view="bass")


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
    deadline = time.monotonic() + 120  # W&B's writer process flushes after run.finish()
    while not (tables := list(runs[0].glob("files/media/table/leaderboard_*.table.json"))):
        assert time.monotonic() < deadline, "no leaderboard table written"
        time.sleep(0.1)
    table = json.loads(tables[0].read_text())
    assert table["columns"][:2] == ["model", "dataset"] and table["data"][0][0] == "markov"
